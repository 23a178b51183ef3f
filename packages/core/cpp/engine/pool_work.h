// The work path of envpool::Pool (included by pool.h): queueing sends, collecting batches, the
// worker loop and one reset or step. Every wait polls; no lock is held while Python is called.
#pragma once

#include "pool.h"

namespace envpool {

inline void Pool::Enqueue(const std::int32_t* ids, std::size_t n, const void* actions, bool reset, bool help) {
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
  // Allocate first (a failure leaves the pool as it was), then change the envs' state.
  Batch* dedicated = nullptr;
  std::size_t queued = 0;
  try {
    if (pending_ == 0 && n == static_cast<std::size_t>(batch_size_)) {
      // A whole batch sent at once comes back in the order it was sent.
      batches_.push_back(NewBatch());
      dedicated = batches_.back().get();
      dedicated->reserved = batch_size_;
    }
    for (; queued < n; ++queued)
      tasks_.push_back(Task{ids[queued], dedicated, dedicated ? static_cast<int>(queued) : -1});
  } catch (const std::bad_alloc&) {
    tasks_.erase(tasks_.end() - static_cast<std::ptrdiff_t>(queued), tasks_.end());
    if (dedicated != nullptr) batches_.pop_back();
    throw OutOfMemory("out of memory queueing " + std::to_string(n) + " envs of " + task_id_ +
                      " (a result batch needs " + std::to_string(BatchBytes()) + " bytes); the pool is unchanged");
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
  }
  pending_ += static_cast<int>(n);
  int want = static_cast<int>(n) - (help ? 1 : 0);
  int wake = std::min(want, idle_);
  lk.unlock();
  for (int i = 0; i < wake; ++i) work_cv_.notify_one();
}

// Waits for the oldest batch, helping with queued tasks; polls `interrupted` every kPoll.
inline std::unique_ptr<Batch> Pool::Collect(const InterruptCheck& interrupted) {
  std::unique_lock<std::mutex> lk(mu_);
  CheckUsable();
  if (pending_ < batch_size_)
    throw std::runtime_error("recv() needs " + std::to_string(batch_size_) + " results but only " +
                             std::to_string(pending_) +
                             " envs were sent and not yet received: call send() or async_reset() first");
  auto next_poll = std::chrono::steady_clock::now() + kPoll;
  for (;;) {
    if (error_) RaiseStored(lk);
    if (closed_) throw std::runtime_error("the env pool was closed while waiting for results");
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
      ++running_;
      lk.unlock();
      RunTask(t);
      lk.lock();
    } else {
      done_cv_.wait_for(lk, kPoll);
    }
    if (interrupted && std::chrono::steady_clock::now() >= next_poll) {
      lk.unlock();
      const bool stop = interrupted();  // may take the GIL: never with mu_ held
      lk.lock();
      if (stop) {
        CancelLocked(lk);
        throw Interrupted();
      }
      next_poll = std::chrono::steady_clock::now() + kPoll;
    }
  }
}

// Abandons every send not yet received: queued tasks are dropped, running ones finish first, their
// batches are discarded, and each of those envs starts a new episode at its next step.
inline void Pool::CancelLocked(std::unique_lock<std::mutex>& lk) {
  tasks_.clear();
  done_cv_.wait(lk, [this] { return running_ == 0; });
  batches_.clear();
  for (auto& e : envs_)
    if (e.in_flight) {
      e.in_flight = false;
      e.done = true;
    }
  pending_ = 0;
}

inline void Pool::RaiseStored(std::unique_lock<std::mutex>& lk) {
  std::exception_ptr e = error_;
  // The engine itself failed (not an env): the pool refuses further use.
  closed_ = true;
  lk.unlock();
  std::rethrow_exception(e);
}

inline void Pool::WorkerLoop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    ++idle_;
    work_cv_.wait(lk, [this] { return stop_ || !tasks_.empty(); });
    --idle_;
    if (stop_) return;
    Task t = tasks_.front();
    tasks_.pop_front();
    ++running_;
    lk.unlock();
    RunTask(t);
    lk.lock();
  }
}

// Runs one reset or step; called with `running_` counted and mu_ not held.
inline void Pool::RunTask(Task t) {
  Batch* b = t.batch;
  int slot = t.slot;
  if (b == nullptr) {
    std::lock_guard<std::mutex> lk(mu_);
    try {
      if (batches_.empty() || batches_.back()->reserved == batches_.back()->capacity) batches_.push_back(NewBatch());
    } catch (const std::bad_alloc&) {
      if (!error_)
        error_ = std::make_exception_ptr(OutOfMemory("out of memory allocating a result batch of " +
                                                     std::to_string(BatchBytes()) + " bytes for " + task_id_ +
                                                     "; the pool was closed"));
      --running_;
      done_cv_.notify_all();
      return;
    }
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
  std::string failure;
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
      if (!std::isfinite(reward)) failure = "the reward is not finite (" + std::to_string(reward) + ")";
    }
  } catch (const std::exception& ex) {
    failure = ex.what();
  } catch (...) {
    failure = "unknown error";
  }
  if (!failure.empty()) {
    // Reported with the batch; this env starts a new episode at its next step, the others go on.
    for (std::size_t i = 0; i < field_bytes_.size(); ++i) std::memset(fields[i], 0, field_bytes_[i]);
    for (std::size_t i = 0; i < spec_.info.size(); ++i) *info[i] = 0.0;
    reward = 0.0;
    terminated = false;
    truncated = true;
    e.done = true;
  }
  b->reward[slot] = reward;
  b->terminated[slot] = terminated;
  b->truncated[slot] = truncated;
  b->env_id[slot] = t.env_id;
  b->elapsed_step[slot] = e.elapsed;
  bool wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!failure.empty()) {
      try {
        b->errors.emplace_back(t.env_id, std::move(failure));
      } catch (const std::bad_alloc&) {
        b->errors.clear();  // still reported: the Python side sees truncated=True with no message
      }
    }
    --running_;
    wake = ++b->filled == b->capacity || running_ == 0;
  }
  if (wake) done_cv_.notify_all();
}

}  // namespace envpool
