// The batched engine: N environments stepped by a thread pool, results written straight into
// preallocated batch arrays that are handed to Python without copying.
//
// Synchronous use is Step(all ids) -> Recv(); asynchronous use is Send(some ids) and Recv(), which
// returns the first `batch_size` envs to finish. An env whose episode ended is reset by its next
// step (the action is ignored), as in envpool and gymnasium's NEXT_STEP autoreset.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "env.h"

namespace envpool {

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
  int capacity = 0;
  int reserved = 0;  // slots handed to tasks (guarded by the pool mutex)
  int filled = 0;    // slots written (guarded by the pool mutex)
};

class Pool {
 public:
  Pool(const Family& family, const std::string& task_id, const Config& config, int num_envs,
       int batch_size, int num_threads, const std::vector<std::uint64_t>& seeds)
      : spec_(family.spec(task_id, config)), num_envs_(num_envs), batch_size_(batch_size) {
    if (num_envs < 1) throw std::invalid_argument("num_envs must be >= 1, got " + std::to_string(num_envs));
    if (batch_size < 1 || batch_size > num_envs)
      throw std::invalid_argument("batch_size must be in [1, num_envs=" + std::to_string(num_envs) +
                                  "], got " + std::to_string(batch_size));
    if (num_threads < 1) throw std::invalid_argument("num_threads must be >= 1, got " + std::to_string(num_threads));
    if (seeds.size() != static_cast<std::size_t>(num_envs))
      throw std::invalid_argument("expected " + std::to_string(num_envs) + " seeds, got " +
                                  std::to_string(seeds.size()));
    for (const auto& f : spec_.obs) field_bytes_.push_back(f.NumBytes());
    box_size_ = spec_.action.discrete ? 0 : spec_.action.box.NumElements();
    envs_.resize(static_cast<std::size_t>(num_envs));
    for (int i = 0; i < num_envs; ++i) {
      auto& e = envs_[static_cast<std::size_t>(i)];
      e.env = family.make(task_id, config);
      e.rng.seed(seeds[static_cast<std::size_t>(i)]);
      e.box_action.assign(box_size_, 0.0f);
    }
    workers_.reserve(static_cast<std::size_t>(num_threads));
    for (int i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }

  ~Pool() { Close(); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const EnvSpec& spec() const { return spec_; }
  int num_envs() const { return num_envs_; }
  int batch_size() const { return batch_size_; }
  int num_threads() const { return static_cast<int>(workers_.size()); }

  // Queues a reset of each env in `ids`.
  void SendReset(const std::int32_t* ids, std::size_t n) { Enqueue(ids, n, nullptr, true, false); }

  // Queues one step of each env in `ids`; `actions` holds n int64 (Discrete) or n * box floats.
  void Send(const std::int32_t* ids, std::size_t n, const void* actions) {
    Enqueue(ids, n, actions, false, false);
  }

  // Send() for callers that will Recv() at once: the calling thread takes part of the work
  // itself instead of waking every worker.
  void SendAndHelp(const std::int32_t* ids, std::size_t n, const void* actions, bool reset) {
    Enqueue(ids, n, actions, reset, true);
  }

  // Blocks until the oldest batch is complete and returns it. Call without the GIL.
  std::unique_ptr<Batch> Recv() {
    std::unique_lock<std::mutex> lk(mu_);
    CheckUsable();
    if (pending_ < batch_size_)
      throw std::runtime_error("recv() needs " + std::to_string(batch_size_) + " results but only " +
                               std::to_string(pending_) +
                               " envs were sent and not yet received: call send() or async_reset() first");
    for (;;) {
      if (error_) RaiseStored(lk);
      if (!batches_.empty() && batches_.front()->filled == batches_.front()->capacity) {
        std::unique_ptr<Batch> out = std::move(batches_.front());
        batches_.pop_front();
        pending_ -= out->capacity;
        // An env may be sent again once its result has been handed out.
        for (int i = 0; i < out->capacity; ++i) envs_[static_cast<std::size_t>(out->env_id[i])].in_flight = false;
        return out;
      }
      if (!tasks_.empty()) {
        Task t = tasks_.front();
        tasks_.pop_front();
        lk.unlock();
        RunTask(t);
        lk.lock();
        continue;
      }
      done_cv_.wait(lk);
    }
  }

  // Overwrites env `env_id`'s physical state; the env must not be running.
  void SetState(int env_id, const std::vector<double>& state) {
    std::unique_lock<std::mutex> lk(mu_);
    CheckUsable();
    CheckId(env_id);
    auto& e = envs_[static_cast<std::size_t>(env_id)];
    if (e.in_flight)
      throw std::runtime_error("env " + std::to_string(env_id) + " was sent and its result not yet received: recv() it first");
    std::vector<std::unique_ptr<std::uint8_t[]>> scratch;
    std::vector<void*> ptrs;
    for (auto b : field_bytes_) {
      scratch.emplace_back(new std::uint8_t[b]);
      ptrs.push_back(scratch.back().get());
    }
    std::vector<double> info_scratch(spec_.info.size());
    std::vector<double*> info_ptrs;
    for (auto& v : info_scratch) info_ptrs.push_back(&v);
    e.env->SetState(state, ObsOut(ptrs.data(), info_ptrs.data()));
    e.done = false;
  }

  void Close() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closed_ = true;
      stop_ = true;
    }
    work_cv_.notify_all();
    done_cv_.notify_all();
    for (auto& w : workers_)
      if (w.joinable()) w.join();
  }

 private:
  struct EnvState {
    std::unique_ptr<Env> env;
    Rng rng;
    int elapsed = 0;
    bool done = true;  // the first step of a never-reset env resets it
    bool in_flight = false;
    bool reset_requested = false;
    std::int64_t discrete_action = 0;
    std::vector<float> box_action;
  };
  struct Task {
    int env_id;
    Batch* batch;  // nullptr: take the next free slot of the newest batch
    int slot;
  };

  void CheckUsable() const {
    if (closed_) throw std::runtime_error("the env pool is closed");
  }
  void CheckId(long long id) const {
    if (id < 0 || id >= num_envs_)
      throw std::out_of_range("env_id " + std::to_string(id) + " is out of range [0, " +
                              std::to_string(num_envs_) + ")");
  }

  [[noreturn]] void RaiseStored(std::unique_lock<std::mutex>& lk) {
    std::exception_ptr e = error_;
    // The envs are in an unknown state after a failed step: the pool refuses further use.
    closed_ = true;
    lk.unlock();
    std::rethrow_exception(e);
  }

  std::unique_ptr<Batch> NewBatch() const {
    auto b = std::make_unique<Batch>();
    auto cap = static_cast<std::size_t>(batch_size_);
    b->capacity = batch_size_;
    for (auto bytes : field_bytes_) b->obs.emplace_back(new std::uint8_t[bytes * cap]());
    for (std::size_t i = 0; i < spec_.info.size(); ++i) b->info.emplace_back(new double[cap]());
    b->reward.reset(new double[cap]());
    b->terminated.reset(new bool[cap]());
    b->truncated.reset(new bool[cap]());
    b->env_id.reset(new std::int32_t[cap]());
    b->elapsed_step.reset(new std::int32_t[cap]());
    return b;
  }

  void Enqueue(const std::int32_t* ids, std::size_t n, const void* actions, bool reset, bool help) {
    if (n == 0) throw std::invalid_argument("no env ids given");
    std::unique_lock<std::mutex> lk(mu_);
    CheckUsable();
    // Validate everything before changing any state, so a bad call leaves the pool as it was.
    std::vector<bool> seen(static_cast<std::size_t>(num_envs_), false);
    for (std::size_t i = 0; i < n; ++i) {
      CheckId(ids[i]);
      auto id = static_cast<std::size_t>(ids[i]);
      if (seen[id]) throw std::invalid_argument("env_id " + std::to_string(ids[i]) + " is given twice");
      seen[id] = true;
      if (envs_[id].in_flight)
        throw std::runtime_error("env " + std::to_string(ids[i]) +
                                 " is still running or its result was not received: recv() it before sending it again");
    }
    if (help && pending_ + static_cast<int>(n) < batch_size_)
      throw std::invalid_argument("step() needs at least batch_size=" + std::to_string(batch_size_) +
                                  " envs in flight, got " + std::to_string(pending_ + static_cast<int>(n)));
    if (!reset && spec_.action.discrete) {
      const auto* a = static_cast<const std::int64_t*>(actions);
      for (std::size_t i = 0; i < n; ++i)
        if (a[i] < 0 || a[i] >= spec_.action.n)
          throw std::invalid_argument("action " + std::to_string(a[i]) + " for env " + std::to_string(ids[i]) +
                                      " is outside Discrete(" + std::to_string(spec_.action.n) + ")");
    }
    if (!reset && !spec_.action.discrete && spec_.action.finite) {
      const auto* a = static_cast<const float*>(actions);
      for (std::size_t i = 0; i < n * box_size_; ++i)
        if (!std::isfinite(a[i]))
          throw std::invalid_argument("action for env " + std::to_string(ids[i / box_size_]) + " has a non-finite value (" +
                                      std::to_string(a[i]) + ") at index " + std::to_string(i % box_size_));
    }
    Batch* dedicated = nullptr;
    if (pending_ == 0 && n == static_cast<std::size_t>(batch_size_)) {
      // A whole batch sent at once comes back in the order it was sent.
      batches_.push_back(NewBatch());
      dedicated = batches_.back().get();
      dedicated->reserved = batch_size_;
    }
    for (std::size_t i = 0; i < n; ++i) {
      auto& e = envs_[static_cast<std::size_t>(ids[i])];
      e.in_flight = true;
      e.reset_requested = reset;
      if (!reset) {
        if (spec_.action.discrete) {
          e.discrete_action = static_cast<const std::int64_t*>(actions)[i];
        } else {
          const float* src = static_cast<const float*>(actions) + i * box_size_;
          std::copy(src, src + box_size_, e.box_action.begin());
        }
      }
      tasks_.push_back(Task{ids[i], dedicated, dedicated ? static_cast<int>(i) : -1});
    }
    pending_ += static_cast<int>(n);
    int want = static_cast<int>(n) - (help ? 1 : 0);
    int wake = std::min(want, idle_);
    lk.unlock();
    for (int i = 0; i < wake; ++i) work_cv_.notify_one();
  }

  void WorkerLoop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      ++idle_;
      work_cv_.wait(lk, [this] { return stop_ || !tasks_.empty(); });
      --idle_;
      if (stop_) return;
      Task t = tasks_.front();
      tasks_.pop_front();
      lk.unlock();
      RunTask(t);
      lk.lock();
    }
  }

  void RunTask(Task t) {
    Batch* b = t.batch;
    int slot = t.slot;
    if (b == nullptr) {
      std::lock_guard<std::mutex> lk(mu_);
      if (batches_.empty() || batches_.back()->reserved == batches_.back()->capacity) batches_.push_back(NewBatch());
      b = batches_.back().get();
      slot = b->reserved++;
    }
    auto& e = envs_[static_cast<std::size_t>(t.env_id)];
    void* ptrs[16];
    std::vector<void*> many;
    void** fields = ptrs;
    if (field_bytes_.size() > 16) {
      many.resize(field_bytes_.size());
      fields = many.data();
    }
    for (std::size_t i = 0; i < field_bytes_.size(); ++i)
      fields[i] = b->obs[i].get() + static_cast<std::size_t>(slot) * field_bytes_[i];
    double* info_slots[8];
    std::vector<double*> more_info;
    double** info = info_slots;
    if (spec_.info.size() > 8) {
      more_info.resize(spec_.info.size());
      info = more_info.data();
    }
    for (std::size_t i = 0; i < spec_.info.size(); ++i) info[i] = b->info[i].get() + slot;
    ObsOut out(fields, info);
    double reward = 0.0;
    bool terminated = false;
    bool truncated = false;
    std::exception_ptr failure;
    try {
      if (e.reset_requested || e.done) {
        e.env->Reset(e.rng, out);
        e.elapsed = 0;
        e.done = false;
      } else {
        Action a;
        a.discrete = e.discrete_action;
        a.box = e.box_action.data();
        StepOutcome r = e.env->Step(a, e.rng, out);
        ++e.elapsed;
        reward = r.reward;
        terminated = r.terminated;
        truncated = spec_.max_episode_steps > 0 && e.elapsed >= spec_.max_episode_steps;
        e.done = terminated || truncated;
      }
    } catch (const std::exception& ex) {
      failure = std::make_exception_ptr(std::runtime_error("env " + std::to_string(t.env_id) + ": " + ex.what()));
    } catch (...) {
      failure = std::make_exception_ptr(std::runtime_error("env " + std::to_string(t.env_id) + ": unknown error"));
    }
    b->reward[slot] = reward;
    b->terminated[slot] = terminated;
    b->truncated[slot] = truncated;
    b->env_id[slot] = t.env_id;
    b->elapsed_step[slot] = e.elapsed;
    bool complete;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (failure && !error_) error_ = failure;
      complete = ++b->filled == b->capacity;
    }
    if (complete || failure) done_cv_.notify_all();
  }

  EnvSpec spec_;
  int num_envs_;
  int batch_size_;
  std::vector<std::size_t> field_bytes_;
  std::size_t box_size_ = 0;
  std::vector<EnvState> envs_;
  std::vector<std::thread> workers_;

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Task> tasks_;
  std::deque<std::unique_ptr<Batch>> batches_;
  int pending_ = 0;  // envs sent and not yet returned by Recv()
  int idle_ = 0;
  bool stop_ = false;
  bool closed_ = false;
  std::exception_ptr error_;
};

}  // namespace envpool
