// The Python bindings every family module shares: `spec(task_id, config)` and class `Pool`.
// A family module calls BindFamily() from its NB_MODULE and may add family-specific functions.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "env.h"
#include "pool.h"

namespace envpool {

namespace nb = nanobind;

inline nb::dlpack::dtype ToDlpack(DType t) {
  switch (t) {
    case DType::kUInt8:
      return nb::dtype<std::uint8_t>();
    case DType::kBool:
      return nb::dtype<bool>();
    case DType::kInt32:
      return nb::dtype<std::int32_t>();
    case DType::kInt64:
      return nb::dtype<std::int64_t>();
    case DType::kFloat32:
      return nb::dtype<float>();
    case DType::kFloat64:
      return nb::dtype<double>();
  }
  return nb::dtype<std::uint8_t>();
}

inline nb::dict FieldToDict(const FieldSpec& f) {
  nb::dict d;
  d["name"] = f.name;
  d["dtype"] = DTypeName(f.dtype);
  d["shape"] = nb::tuple(nb::cast(f.shape));
  d["low"] = nb::cast(f.low);
  d["high"] = nb::cast(f.high);
  return d;
}

inline nb::dict SpecToDict(const EnvSpec& s) {
  nb::list obs;
  for (const auto& f : s.obs) obs.append(FieldToDict(f));
  nb::dict action;
  action["discrete"] = s.action.discrete;
  action["n"] = s.action.n;
  if (!s.action.discrete) action["box"] = FieldToDict(s.action.box);
  nb::dict d;
  d["obs"] = obs;
  d["action"] = action;
  d["max_episode_steps"] = s.max_episode_steps;
  d["info"] = nb::cast(s.info);
  return d;
}

// Hands an array owned by a std::unique_ptr over to NumPy without copying.
template <typename T>
nb::object Adopt(std::unique_ptr<T[]>& data, std::vector<std::size_t> shape, nb::dlpack::dtype dtype) {
  T* raw = data.release();
  nb::capsule owner(raw, [](void* p) noexcept { delete[] static_cast<T*>(p); });
  return nb::cast(nb::ndarray<nb::numpy>(raw, shape.size(), shape.data(), owner, nullptr, dtype));
}

inline nb::tuple BatchToPython(const EnvSpec& spec, std::unique_ptr<Batch> b) {
  auto cap = static_cast<std::size_t>(b->capacity);
  nb::list obs;
  for (std::size_t i = 0; i < spec.obs.size(); ++i) {
    std::vector<std::size_t> shape{cap};
    for (auto d : spec.obs[i].shape) shape.push_back(static_cast<std::size_t>(d));
    obs.append(Adopt(b->obs[i], shape, ToDlpack(spec.obs[i].dtype)));
  }
  nb::dict info;
  for (std::size_t i = 0; i < spec.info.size(); ++i)
    info[spec.info[i].c_str()] = Adopt(b->info[i], {cap}, nb::dtype<double>());
  return nb::make_tuple(obs, Adopt(b->reward, {cap}, nb::dtype<double>()),
                        Adopt(b->terminated, {cap}, nb::dtype<bool>()),
                        Adopt(b->truncated, {cap}, nb::dtype<bool>()),
                        Adopt(b->env_id, {cap}, nb::dtype<std::int32_t>()),
                        Adopt(b->elapsed_step, {cap}, nb::dtype<std::int32_t>()), info);
}

using IdArray = nb::ndarray<const std::int32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using ActionArray = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

// Checks the action array against the spec; returns its data pointer.
inline const void* CheckAction(const EnvSpec& spec, const ActionArray& a, std::size_t n) {
  if (spec.action.discrete) {
    if (a.dtype() != nb::dtype<std::int64_t>() || a.ndim() != 1 || a.shape(0) != n)
      throw std::invalid_argument("discrete actions must be an int64 array of shape (" + std::to_string(n) + ",)");
  } else {
    auto k = spec.action.box.NumElements();
    if (a.dtype() != nb::dtype<float>() || a.ndim() != 2 || a.shape(0) != n || a.shape(1) != k)
      throw std::invalid_argument("box actions must be a float32 array of shape (" + std::to_string(n) + ", " +
                                  std::to_string(k) + ")");
  }
  return a.data();
}

// Polled by a blocked call (without the GIL): runs Python's signal handlers, so Ctrl-C raises
// KeyboardInterrupt within Pool::kPoll. True when a handler raised (the error stays set).
inline bool PythonInterrupted() {
  nb::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

// Runs `f(interrupt_check)` without the GIL. A pending KeyboardInterrupt (or any exception raised by
// a signal handler) that cancelled the call is raised in Python; other exceptions propagate.
template <typename F>
auto WithoutGil(F&& f) -> decltype(f(InterruptCheck())) {
  const InterruptCheck check(&PythonInterrupted);
  {
    nb::gil_scoped_release release;
    try {
      return f(check);
    } catch (const Interrupted&) {
    }
  }
  if (PyErr_Occurred() == nullptr) PyErr_SetNone(PyExc_KeyboardInterrupt);
  throw nb::python_error();
}

// A batch as Python sees it; when some env failed, raises envpool.errors.EnvStepError carrying it.
inline nb::tuple Deliver(const Pool& p, std::unique_ptr<Batch> b) {
  std::vector<std::pair<int, std::string>> errors = std::move(b->errors);
  const int capacity = b->capacity;
  nb::tuple result = BatchToPython(p.spec(), std::move(b));
  if (errors.empty()) return result;
  std::string message;
  nb::list ids;
  for (const auto& [id, what] : errors) {
    message += (message.empty() ? "" : "; ") + p.task_id() + " env " + std::to_string(id) + ": " + what;
    ids.append(id);
  }
  message += " (" + std::to_string(errors.size()) + " of " + std::to_string(capacity) +
             " envs of the batch failed; each is reset by its next step, the others go on: their results are in "
             "the exception's .result)";
  nb::object cls = nb::module_::import_("envpool.errors").attr("EnvStepError");
  nb::object exc = cls(message, ids, result);
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw nb::python_error();
}

inline void BindFamily(nb::module_& m, const Family& family) {
  static Family fam = family;
  m.def(
      "spec",
      [](const std::string& task_id, const std::map<std::string, ConfigValue>& config) {
        return SpecToDict(fam.spec(task_id, Config(config)));
      },
      nb::arg("task_id"), nb::arg("config"), "The observation/action spec of a task, as a dict.");
  m.attr("MAX_NUM_ENVS") = kMaxNumEnvs;
  m.attr("MAX_NUM_THREADS") = kMaxNumThreads;

  nb::class_<Pool>(m, "Pool")
      .def(
          "__init__",
          [](Pool* self, const std::string& task_id, const std::map<std::string, ConfigValue>& config, int num_envs,
             int batch_size, int num_threads, const std::vector<std::uint64_t>& seeds) {
            new (self) Pool(fam, task_id, Config(config), num_envs, batch_size, num_threads, seeds);
          },
          nb::arg("task_id"), nb::arg("config"), nb::arg("num_envs"), nb::arg("batch_size"), nb::arg("num_threads"),
          nb::arg("seeds"))
      .def_prop_ro("spec", [](const Pool& p) { return SpecToDict(p.spec()); })
      .def_prop_ro("num_threads", &Pool::num_threads)
      .def(
          "send_reset",
          [](Pool& p, const IdArray& ids) {
            WithoutGil([&](const InterruptCheck& check) { p.Send(ids.data(), ids.shape(0), nullptr, check); });
          },
          nb::arg("env_ids"))
      .def(
          "send",
          [](Pool& p, const IdArray& ids, const ActionArray& actions) {
            const void* data = CheckAction(p.spec(), actions, ids.shape(0));
            WithoutGil([&](const InterruptCheck& check) { p.Send(ids.data(), ids.shape(0), data, check); });
          },
          nb::arg("env_ids"), nb::arg("actions"))
      .def("recv",
           [](Pool& p) { return Deliver(p, WithoutGil([&](const InterruptCheck& check) { return p.Recv(check); })); })
      .def(
          "step",
          [](Pool& p, const IdArray& ids, const ActionArray& actions) {
            const void* data = CheckAction(p.spec(), actions, ids.shape(0));
            return Deliver(p, WithoutGil([&](const InterruptCheck& check) {
                             return p.Step(ids.data(), ids.shape(0), data, check);
                           }));
          },
          nb::arg("env_ids"), nb::arg("actions"), "send() then recv(), the caller thread helping with the work.")
      .def(
          "reset",
          [](Pool& p, const IdArray& ids) {
            return Deliver(p, WithoutGil([&](const InterruptCheck& check) {
                             return p.Step(ids.data(), ids.shape(0), nullptr, check);
                           }));
          },
          nb::arg("env_ids"))
      .def(
          "set_state",
          [](Pool& p, int env_id, const std::vector<double>& state) {
            WithoutGil([&](const InterruptCheck& check) { p.SetState(env_id, state, check); });
          },
          nb::arg("env_id"), nb::arg("state"))
      .def("close", [](Pool& p) {
        nb::gil_scoped_release release;
        p.Close();
      });
}

}  // namespace envpool
