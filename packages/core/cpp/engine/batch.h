// The pool's limits, its interruption protocol and the result batch it hands to Python.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace envpool {

// Documented upper bounds (docs/runtime.md); envpool.registration checks the same numbers first.
constexpr int kMaxNumEnvs = 1 << 20;
constexpr int kMaxNumThreads = 1024;

// Thrown by a blocking call whose InterruptCheck returned true; nothing is half-done.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// Polled (without any pool lock held) while a call blocks; true abandons the call.
using InterruptCheck = std::function<bool()>;

// One batch of results: `capacity` slots in every array. Owned by the pool until Recv() hands it
// out; the arrays are then given to NumPy as they are.
struct Batch {
  std::vector<std::unique_ptr<std::uint8_t[]>> obs;  // one per observation field
  std::vector<std::unique_ptr<double[]>> info;        // one per EnvSpec::info name
  std::unique_ptr<double[]> reward;
  std::unique_ptr<bool[]> terminated;
  std::unique_ptr<bool[]> truncated;
  std::unique_ptr<std::int32_t[]> env_id;
  std::unique_ptr<std::int32_t[]> elapsed_step;
  // Envs whose reset or step threw: (env id, message). Their slot holds zeros and truncated=true.
  std::vector<std::pair<int, std::string>> errors;
  int capacity = 0;
  int reserved = 0;  // slots handed to tasks (guarded by the pool mutex)
  int filled = 0;    // slots written (guarded by the pool mutex)
};

}  // namespace envpool
