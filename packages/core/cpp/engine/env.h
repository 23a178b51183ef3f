// The interface every environment family implements, and the specs that describe
// an environment's observations and actions to the pool and to Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace envpool {

// A failed allocation whose message names what was being allocated (Python MemoryError).
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(const std::string& message) : message_(message) {}
  const char* what() const noexcept override { return message_.what(); }

 private:
  std::runtime_error message_;  // a reference-counted string: copying never throws
};

enum class DType : std::uint8_t { kUInt8, kInt32, kInt64, kFloat32, kFloat64, kBool };

inline std::size_t ItemSize(DType t) {
  switch (t) {
    case DType::kUInt8:
    case DType::kBool:
      return 1;
    case DType::kInt32:
    case DType::kFloat32:
      return 4;
    case DType::kInt64:
    case DType::kFloat64:
      return 8;
  }
  return 1;
}

inline const char* DTypeName(DType t) {
  switch (t) {
    case DType::kUInt8:
      return "uint8";
    case DType::kBool:
      return "bool";
    case DType::kInt32:
      return "int32";
    case DType::kFloat32:
      return "float32";
    case DType::kInt64:
      return "int64";
    case DType::kFloat64:
      return "float64";
  }
  return "?";
}

// One array of an observation (or a box action), per environment.
// `low`/`high` are empty (unbounded), one value (broadcast) or one value per element.
struct FieldSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<double> low;
  std::vector<double> high;

  std::size_t NumElements() const {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    return n;
  }
  std::size_t NumBytes() const { return NumElements() * ItemSize(dtype); }
};

// Discrete(n) when `discrete`, else a float32 Box described by `box`.
struct ActionSpec {
  bool discrete = true;
  std::int64_t n = 0;
  FieldSpec box;
  // Box only: the pool rejects NaN/inf actions (ValueError) before any env is touched.
  bool finite = false;
};

// Everything the pool and Python need to know about one task.
// A single observation field named "obs" is a Box; several fields form a Dict.
struct EnvSpec {
  std::vector<FieldSpec> obs;
  ActionSpec action;
  int max_episode_steps = 0;
  // Names of extra per-env float64 scalars an env reports on every reset/step (e.g. "is_success");
  // Python puts each into info[name] as an array of shape (batch,). Empty for most families.
  std::vector<std::string> info;
};

// The config of one task, passed from Python: the task's fixed parameters and asset paths from the
// task table (envpool/tasks.py), and the user's options (`envpool.make(..., **kwargs)`), already
// validated against the registered defaults on the Python side. No family knows a task id: each
// builds its env from these values, checking every one it reads.
using ConfigValue = std::variant<bool, std::int64_t, double, std::string, std::vector<double>>;

class Config {
 public:
  Config() = default;
  explicit Config(std::map<std::string, ConfigValue> values) : values_(std::move(values)) {}

  bool Has(const std::string& key) const { return values_.count(key) != 0; }

  // Options: `fallback` when absent, an error when of another type.
  std::int64_t Int(const std::string& key, std::int64_t fallback) const {
    const ConfigValue* v = Find(key);
    return v == nullptr ? fallback : As<std::int64_t>("option", key, *v);
  }
  double Float(const std::string& key, double fallback) const {
    const ConfigValue* v = Find(key);
    return v == nullptr ? fallback : As<double>("option", key, *v);
  }
  bool Bool(const std::string& key, bool fallback) const {
    const ConfigValue* v = Find(key);
    return v == nullptr ? fallback : As<bool>("option", key, *v);
  }
  std::string String(const std::string& key, const std::string& fallback) const {
    const ConfigValue* v = Find(key);
    return v == nullptr ? fallback : As<std::string>("option", key, *v);
  }

  // A task parameter: the task table passes it with every task of the family, so a missing one is an
  // error naming the fix. T is bool, std::int64_t, double, std::string or std::vector<double>.
  template <typename T>
  T Param(const std::string& key) const {
    const ConfigValue* v = Find(key);
    if (v == nullptr)
      throw std::invalid_argument("missing task parameter '" + key +
                                  "': a family's spec() and Pool() take the config of "
                                  "envpool.registration.native_options(task_id, options)");
    return As<T>("task parameter", key, *v);
  }

 private:
  const ConfigValue* Find(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : &it->second;
  }

  template <typename T>
  static T As(const char* what, const std::string& key, const ConfigValue& v) {
    if (auto* x = std::get_if<T>(&v)) return *x;
    if constexpr (std::is_same_v<T, double>) {
      if (auto* x = std::get_if<std::int64_t>(&v)) return static_cast<double>(*x);
      throw std::invalid_argument(std::string(what) + " '" + key + "' must be a number");
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      throw std::invalid_argument(std::string(what) + " '" + key + "' must be an integer");
    } else if constexpr (std::is_same_v<T, bool>) {
      throw std::invalid_argument(std::string(what) + " '" + key + "' must be a bool");
    } else if constexpr (std::is_same_v<T, std::string>) {
      throw std::invalid_argument(std::string(what) + " '" + key + "' must be a string");
    } else {
      static_assert(std::is_same_v<T, std::vector<double>>, "not a ConfigValue type");
      throw std::invalid_argument(std::string(what) + " '" + key + "' must be a sequence of numbers");
    }
  }

  std::map<std::string, ConfigValue> values_;
};

// The entry of a family's table of implementations named by a task parameter (e.g. the "game" of a
// procgen task); an unknown name is an error listing the known ones.
template <typename T>
const T& Lookup(const std::map<std::string, T>& table, const std::string& what, const std::string& name) {
  auto it = table.find(name);
  if (it != table.end()) return it->second;
  std::string known;
  for (const auto& entry : table) known += (known.empty() ? "" : ", ") + entry.first;
  throw std::invalid_argument(what + " '" + name.substr(0, 60) + "' is not one of: " + known);
}

using Rng = std::mt19937_64;

// Where an environment writes its observation: one pointer per FieldSpec of EnvSpec::obs,
// each pointing at this env's slot inside the batch arrays handed to Python.
// `info` holds one pointer per name of EnvSpec::info (this env's slot of each info array).
class ObsOut {
 public:
  explicit ObsOut(void* const* fields, double* const* info = nullptr) : fields_(fields), info_(info) {}
  template <typename T>
  T* Field(std::size_t i) const {
    return static_cast<T*>(fields_[i]);
  }
  // Sets the i-th info value of EnvSpec::info for this env.
  void SetInfo(std::size_t i, double value) const {
    if (info_ != nullptr) *info_[i] = value;
  }

 private:
  void* const* fields_;
  double* const* info_;
};

// The action for one env: `discrete` for Discrete spaces, `box` (ActionSpec::box.NumElements()
// floats) for Box spaces.
struct Action {
  std::int64_t discrete = 0;
  const float* box = nullptr;
};

struct StepOutcome {
  double reward = 0.0;
  bool terminated = false;
};

class Env {
 public:
  virtual ~Env() = default;
  // Starts a new episode and writes its first observation.
  virtual void Reset(Rng& rng, const ObsOut& out) = 0;
  // Applies one action and writes the next observation.
  virtual StepOutcome Step(const Action& action, Rng& rng, const ObsOut& out) = 0;
  // Overwrites the physical state (used by parity tests against reference implementations)
  // and writes the observation of that state.
  virtual void SetState(const std::vector<double>& /*state*/, const ObsOut& /*out*/) {
    throw std::invalid_argument("this environment does not support set_state()");
  }
};

// What one family module provides to the shared bindings.
// `task_id` only names the task in messages: the config says what to build.
struct Family {
  // Validates the task's parameters and options, returning the spec; throws std::invalid_argument.
  EnvSpec (*spec)(const std::string& task_id, const Config& config);
  // Builds one environment instance; throws std::invalid_argument / std::runtime_error.
  std::unique_ptr<Env> (*make)(const std::string& task_id, const Config& config);
};

}  // namespace envpool
