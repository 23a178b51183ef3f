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

#include <sys/resource.h>
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
#include <fstream>
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

#include "env.h"

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

namespace detail {

inline std::string Bytes(std::uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%llu bytes (%.2f GiB)", static_cast<unsigned long long>(n),
                static_cast<double>(n) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

// The number after the word `key` in the text file `path` (the first word when `key` is empty), or
// -1 when the file, the key or the number is missing (cgroup's "max" counts as missing).
inline long long ReadNumber(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string word;
  if (!key.empty())
    while (f >> word && word != key) {
    }
  long long v = -1;
  return (f >> v) ? v : -1;
}

// What this process can still allocate: the least of MemAvailable, the RLIMIT_AS headroom and the
// cgroup v2 memory.max headroom, each when known, with the name of the one that binds.
struct Headroom {
  std::uint64_t bytes = std::numeric_limits<std::uint64_t>::max();
  std::string source = "no limit known";
  void Offer(long long b, const std::string& what) {
    if (b < 0) b = 0;
    if (static_cast<std::uint64_t>(b) < bytes) {
      bytes = static_cast<std::uint64_t>(b);
      source = what;
    }
  }
};

inline Headroom AvailableMemory() {
  Headroom h;
  long long avail_kb = ReadNumber("/proc/meminfo", "MemAvailable:");
  if (avail_kb >= 0) h.Offer(avail_kb * 1024, "MemAvailable in /proc/meminfo");
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    long long pages = ReadNumber("/proc/self/statm", "");
    long long used = pages < 0 ? 0 : pages * sysconf(_SC_PAGESIZE);
    h.Offer(static_cast<long long>(as.rlim_cur) - used,
            "RLIMIT_AS (ulimit -v) of " + std::to_string(as.rlim_cur) + " bytes, " + std::to_string(used) +
                " in use");
  }
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  while (std::getline(cg, line))
    if (line.rfind("0::", 0) == 0) {
      std::string dir = "/sys/fs/cgroup" + line.substr(3);
      long long max = ReadNumber(dir + "/memory.max", "");
      long long cur = ReadNumber(dir + "/memory.current", "");
      if (max >= 0 && cur >= 0) h.Offer(max - cur, "the cgroup's memory.max (" + dir + ")");
    }
  return h;
}

}  // namespace detail

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

  std::size_t BatchBytes() const {
    std::size_t per = sizeof(double) * (1 + spec_.info.size()) + 2 * sizeof(bool) + 2 * sizeof(std::int32_t);
    for (auto b : field_bytes_) per += b;
    return per * static_cast<std::size_t>(batch_size_);
  }

  // Waits for the oldest batch, helping with queued tasks; polls `interrupted` every kPoll.
  std::unique_ptr<Batch> Collect(const InterruptCheck& interrupted) {
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
  void CancelLocked(std::unique_lock<std::mutex>& lk) {
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

  [[noreturn]] void RaiseStored(std::unique_lock<std::mutex>& lk) {
    std::exception_ptr e = error_;
    // The engine itself failed (not an env): the pool refuses further use.
    closed_ = true;
    lk.unlock();
    std::rethrow_exception(e);
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
      ++running_;
      lk.unlock();
      RunTask(t);
      lk.lock();
    }
  }

  // Runs one reset or step; called with `running_` counted and mu_ not held.
  void RunTask(Task t) {
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
