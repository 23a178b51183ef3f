// The batched engine: N environments stepped by a thread pool, results written straight into
// preallocated batch arrays that are handed to Python without copying.
//
// Synchronous use is Step(all ids); asynchronous use is Send(some ids) and Recv(), which returns
// the first `batch_size` envs to finish. An env whose episode ended is reset by its next step (the
// action is ignored), as in envpool and gymnasium's NEXT_STEP autoreset.
//
// Faults (docs/runtime.md, "Limits and faults"): construction is all-or-nothing (a thread, memory or
// env that cannot be made stops and joins the workers already started, then throws); an env whose
// step throws is reported in its batch (Batch::errors) and reset by its next step, the other envs
// go on; a blocking call polls `InterruptCheck` so a pending KeyboardInterrupt cancels it; calls
// from several threads are serialized; a pool inherited through fork() refuses every call.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "batch.h"
#include "env.h"
#include "memory.h"

namespace envpool {



class Pool {
 public:
  Pool(const Family& family, const std::string& task_id, const Config& config, int num_envs, int batch_size,
       int num_threads, const std::vector<std::uint64_t>& seeds)
      : spec_(family.spec(task_id, config)),
        task_id_(task_id),
        num_envs_(num_envs),
        batch_size_(batch_size),
        owner_pid_(getpid()) {
    if (num_envs < 1 || num_envs > kMaxNumEnvs)
      throw std::invalid_argument("num_envs must be in [1, " + std::to_string(kMaxNumEnvs) + "], got " +
                                  std::to_string(num_envs));
    if (batch_size < 1 || batch_size > num_envs)
      throw std::invalid_argument("batch_size must be in [1, num_envs=" + std::to_string(num_envs) + "], got " +
                                  std::to_string(batch_size));
    if (num_threads < 1 || num_threads > kMaxNumThreads)
      throw std::invalid_argument("num_threads must be in [1, " + std::to_string(kMaxNumThreads) + "], got " +
                                  std::to_string(num_threads));
    if (seeds.size() != static_cast<std::size_t>(num_envs))
      throw std::invalid_argument("expected " + std::to_string(num_envs) + " seeds, got " +
                                  std::to_string(seeds.size()));
    for (const auto& f : spec_.obs) field_bytes_.push_back(f.NumBytes());
    box_size_ = spec_.action.discrete ? 0 : spec_.action.box.NumElements();
    CheckMemory();
    MakeEnvs(family, config, seeds);
    StartWorkers(num_threads);
  }

  ~Pool() {
    if (Forked()) {
      // The worker threads exist only in the parent, and the mutex and condition variables may be
      // held or waited on by them: leave them alone (destroying a waited-on condition variable blocks).
      (void)sync_.release();
      return;
    }
    Close();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const EnvSpec& spec() const { return spec_; }
  const std::string& task_id() const { return task_id_; }
  int num_envs() const { return num_envs_; }
  int batch_size() const { return batch_size_; }
  int num_threads() const { return static_cast<int>(workers_.size()); }

  // Queues a reset (`actions` == nullptr) or one step of each env in `ids`; `actions` holds n int64
  // (Discrete) or n * box floats.
  void Send(const std::int32_t* ids, std::size_t n, const void* actions, const InterruptCheck& interrupted) {
    CallLock call(*this, interrupted);
    Enqueue(ids, n, actions, actions == nullptr, false);
  }

  // Send() then Recv() of the batch, the calling thread taking part in the work itself.
  std::unique_ptr<Batch> Step(const std::int32_t* ids, std::size_t n, const void* actions,
                              const InterruptCheck& interrupted) {
    CallLock call(*this, interrupted);
    Enqueue(ids, n, actions, actions == nullptr, true);
    return Collect(interrupted);
  }

  // Blocks until the oldest batch is complete and returns it. Call without the GIL.
  std::unique_ptr<Batch> Recv(const InterruptCheck& interrupted) {
    CallLock call(*this, interrupted);
    return Collect(interrupted);
  }

  // Overwrites env `env_id`'s physical state; the env must not be running.
  void SetState(int env_id, const std::vector<double>& state, const InterruptCheck& interrupted) {
    CallLock call(*this, interrupted);
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

  // Stops and joins the workers (a step in progress finishes first); later calls raise. Safe to call
  // from any thread, while another one is blocked in a call (which then raises), and more than once.
  void Close() {
    if (Forked()) {
      closed_ = true;  // single-threaded child: nothing else can look at it
      return;
    }
    std::lock_guard<std::mutex> closing(sync_->close_mu);
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
  static constexpr std::chrono::milliseconds kPoll{50};

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
  // Everything the worker threads touch to coordinate, on the heap so that a child of fork() can
  // leave it untouched (see ~Pool).
  struct Sync {
    std::mutex call_mu;  // with call_cv and busy: serializes the public calls of several Python threads
    std::condition_variable call_cv;
    bool busy = false;
    std::mutex close_mu;
    std::mutex mu;
    std::condition_variable work_cv;
    std::condition_variable done_cv;
    std::vector<std::thread> workers;
  };

  // Holds the pool for one public call; waits for another thread's call to end, polling `interrupted`.
  class CallLock {
   public:
    CallLock(Pool& pool, const InterruptCheck& interrupted) : sync_(*pool.sync_) {
      pool.CheckOwner();
      std::unique_lock<std::mutex> lk(sync_.call_mu);
      while (sync_.busy && !sync_.call_cv.wait_for(lk, kPoll, [this] { return !sync_.busy; })) {
        lk.unlock();
        if (interrupted && interrupted()) throw Interrupted();  // may take the GIL: never with call_mu held
        lk.lock();
      }
      sync_.busy = true;
    }
    ~CallLock() {
      {
        std::lock_guard<std::mutex> lk(sync_.call_mu);
        sync_.busy = false;
      }
      sync_.call_cv.notify_one();
    }
    CallLock(const CallLock&) = delete;
    CallLock& operator=(const CallLock&) = delete;

   private:
    Sync& sync_;
  };

  bool Forked() const { return getpid() != owner_pid_; }
  void CheckOwner() const {
    if (Forked())
      throw std::runtime_error("this env pool was made in process " + std::to_string(owner_pid_) +
                               "; after os.fork() its worker threads exist only there. Make a new pool in this "
                               "process with envpool.make()");
  }
  void CheckUsable() const {
    if (closed_) throw std::runtime_error("the env pool is closed");
  }
  void CheckId(long long id) const {
    if (id < 0 || id >= num_envs_)
      throw std::out_of_range("env_id " + std::to_string(id) + " is out of range [0, " +
                              std::to_string(num_envs_) + ")");
  }

  // The memory the pool itself will hold for num_envs envs (their slots, and every env in flight in
  // a result batch), checked before anything is allocated.
  void CheckMemory() const {
    std::uint64_t per_env = sizeof(EnvState) + sizeof(Task) + box_size_ * sizeof(float) + sizeof(double) +
                            2 * sizeof(bool) + 2 * sizeof(std::int32_t) + spec_.info.size() * sizeof(double);
    for (auto b : field_bytes_) per_env += b;
    const auto n = static_cast<std::uint64_t>(num_envs_);
    const std::uint64_t need = per_env * n;  // per_env < 2^43 and n <= 2^20: no overflow
    const detail::Headroom room = detail::AvailableMemory();
    if (need > room.bytes)
      throw OutOfMemory("num_envs=" + std::to_string(num_envs_) + " of " + task_id_ + " needs at least " +
                        detail::Bytes(need) + " for its observation buffers and env slots (" +
                        std::to_string(per_env) + " bytes per env), but only " + detail::Bytes(room.bytes) +
                        " can be allocated (" + room.source + "). Use fewer envs or smaller observations");
  }

  void MakeEnvs(const Family& family, const Config& config, const std::vector<std::uint64_t>& seeds) {
    try {
      envs_.resize(static_cast<std::size_t>(num_envs_));
    } catch (const std::bad_alloc&) {
      throw OutOfMemory("out of memory allocating " + std::to_string(num_envs_) + " env slots of " + task_id_);
    }
    for (int i = 0; i < num_envs_; ++i) {
      auto& e = envs_[static_cast<std::size_t>(i)];
      try {
        e.env = family.make(task_id_, config);
        e.box_action.assign(box_size_, 0.0f);
      } catch (const std::bad_alloc& ex) {
        throw OutOfMemory("out of memory creating env " + std::to_string(i) + " of num_envs=" +
                          std::to_string(num_envs_) + " of " + task_id_ + " (" + ex.what() +
                          "); nothing was kept. Use fewer envs or raise the memory limit");
      }
      e.rng.seed(seeds[static_cast<std::size_t>(i)]);
    }
  }

  void StartWorkers(int num_threads) {
    try {
      workers_.reserve(static_cast<std::size_t>(num_threads));
    } catch (const std::bad_alloc&) {
      throw OutOfMemory("out of memory allocating " + std::to_string(num_threads) + " worker thread handles");
    }
    for (int i = 0; i < num_threads; ++i) {
      try {
        workers_.emplace_back([this] { WorkerLoop(); });
      } catch (const std::exception& ex) {
        Close();  // stop and join the workers already started before anything is destroyed
        throw std::runtime_error(
            "could not start worker thread " + std::to_string(i + 1) + " of num_threads=" +
            std::to_string(num_threads) + " for " + task_id_ + " (" + ex.what() +
            "): the process reached its limit on threads (RLIMIT_NPROC, ulimit -u) or on address space for "
            "their stacks (RLIMIT_AS, ulimit -v). The " + std::to_string(i) +
            " threads already started were stopped; nothing was kept. Use fewer threads (num_threads=" +
            std::to_string(std::max(1, i / 2)) + ") or raise the limit");
      }
    }
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

  void Enqueue(const std::int32_t* ids, std::size_t n, const void* actions, bool reset, bool help);

  std::size_t BatchBytes() const {
    std::size_t per = sizeof(double) * (1 + spec_.info.size()) + 2 * sizeof(bool) + 2 * sizeof(std::int32_t);
    for (auto b : field_bytes_) per += b;
    return per * static_cast<std::size_t>(batch_size_);
  }

  // Waits for the oldest batch, helping with queued tasks; polls `interrupted` every kPoll.
  std::unique_ptr<Batch> Collect(const InterruptCheck& interrupted);

  // Abandons every send not yet received: queued tasks are dropped, running ones finish first, their
  // batches are discarded, and each of those envs starts a new episode at its next step.
  void CancelLocked(std::unique_lock<std::mutex>& lk);

  [[noreturn]] void RaiseStored(std::unique_lock<std::mutex>& lk);

  void WorkerLoop();

  // Runs one reset or step; called with `running_` counted and mu_ not held.
  void RunTask(Task t);

  EnvSpec spec_;
  std::string task_id_;
  int num_envs_;
  int batch_size_;
  pid_t owner_pid_;
  std::vector<std::size_t> field_bytes_;
  std::size_t box_size_ = 0;
  std::vector<EnvState> envs_;

  std::unique_ptr<Sync> sync_ = std::make_unique<Sync>();
  std::mutex& mu_ = sync_->mu;
  std::condition_variable& work_cv_ = sync_->work_cv;
  std::condition_variable& done_cv_ = sync_->done_cv;
  std::vector<std::thread>& workers_ = sync_->workers;
  std::deque<Task> tasks_;
  std::deque<std::unique_ptr<Batch>> batches_;
  int pending_ = 0;  // envs sent and not yet returned by Recv()
  int running_ = 0;  // tasks being run by a worker or a helping caller
  int idle_ = 0;
  bool stop_ = false;
  bool closed_ = false;
  std::exception_ptr error_;
};

}  // namespace envpool

#include "pool_work.h"  // the out-of-class definitions of the work path
