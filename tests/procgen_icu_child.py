"""Run procgen frames or Qt's ICU-backed calls in a fresh process and print the results as one JSON line.

``python procgen_icu_child.py frames|qt [--full-data ICU.dat]``. The process first loads the library
wheel's Qt/ICU (``envpool_procgen_libs.load()``). With ``--full-data``, it then hands ICU another
common data package (``udata_setCommonData``) before anything reads ICU data. ICU searches that
package before the data linked into libicudata, so a process given the full upstream package runs
exactly as with the untrimmed library wheel. tests/test_procgen_icu.py compares the two runs.

The Qt calls go through ctypes into libQt5Core, using the Itanium C++ ABI on x86-64. A QString or
QByteArray is one pointer to a QArrayData header (ref, size, alloc, offset), and a function that
returns one takes the address of the result as a hidden first argument, before ``this``.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
from pathlib import Path
from typing import Any

import envpool_procgen_libs
import numpy as np

LOADED = envpool_procgen_libs.load()
_KEEP: list[Any] = []  # buffers that must outlive the calls that use them

#: The charsets of glibc's non-UTF-8 locales that ICU 56 can open (/usr/share/i18n/SUPPORTED).
#: Each is what QTextCodec::codecForLocale() returns in a locale that uses it.
LOCALE_CHARSETS = (
    *(f"ISO-8859-{n}" for n in (1, 2, 3, 5, 6, 7, 8, 9, 10, 13, 14, 15)),
    *("KOI8-R", "KOI8-U", "CP1251", "CP1255", "TIS-620"),
    *("GB2312", "GBK", "GB18030", "BIG5", "BIG5-HKSCS", "EUC-JP", "EUC-KR", "EUC-TW"),
    *("UTF-8", "US-ASCII"),
)
#: Text that no single legacy charset covers, so each codec shows its own mapping and substitutions.
#: (Basic Multilingual Plane only: Qt 5.15's UTF-32 encoder leaves 4 bytes unwritten per surrogate pair.)
SAMPLE = "envpool: Ää Éé ß € – ¿ Ω Ж ש ع ไ 日本語 中文 한국 ✓ ㈱ end"  # noqa: RUF001
#: Every single byte, then common two-byte sequences of the CJK encodings.
BYTES = bytes(range(256)) + bytes.fromhex("a4a2b0a1c4e3bac38ea1a1a1")


def _icu() -> ctypes.CDLL:
    soname = next(s for s in LOADED.files if s.startswith("libicuuc.so."))
    return ctypes.CDLL(str(LOADED.files[soname]))


def use_full_data(path: Path) -> None:
    """Put ``path`` (an ICU .dat package) ahead of the linked data: ICU looks items up there first."""
    icu = _icu()
    major = next(s for s in LOADED.files if s.startswith("libicuuc.so.")).rsplit(".", 1)[1]
    data = path.read_bytes()
    buf = ctypes.create_string_buffer(data, len(data))  # malloc'd: aligned as ICU wants
    _KEEP.append(buf)
    err = ctypes.c_int(0)
    getattr(icu, f"udata_setCommonData_{major}")(buf, ctypes.byref(err))
    if err.value > 0:
        raise SystemExit(f"udata_setCommonData failed: ICU error {err.value}")


def converter_name(charset: str) -> str | None:
    """ICU's name of the converter for ``charset`` (``ucnv_open`` + ``ucnv_getName``), None if it cannot open it."""
    icu = _icu()
    major = next(s for s in LOADED.files if s.startswith("libicuuc.so.")).rsplit(".", 1)[1]
    ucnv_open = getattr(icu, f"ucnv_open_{major}")
    ucnv_open.restype, ucnv_open.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_void_p]
    get_name = getattr(icu, f"ucnv_getName_{major}")
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_void_p]
    err = ctypes.c_int(0)
    conv = ucnv_open(charset.encode(), ctypes.byref(err))
    if not conv or err.value > 0:
        return None
    name = get_name(conv, ctypes.byref(err))
    getattr(icu, f"ucnv_close_{major}")(ctypes.c_void_p(conv))
    return str(name.decode())


class Qt:
    """The few Qt5Core entry points that reach ICU, and QString/QByteArray conversions."""

    def __init__(self) -> None:
        self.core = ctypes.CDLL(str(LOADED.files["libQt5Core.so.5"]))
        p = ctypes.c_void_p
        self.from_utf8 = self._fn("_ZN7QString15fromUtf8_helperEPKci", p, ctypes.c_char_p, ctypes.c_int)
        self.byte_array = self._fn("_ZN10QByteArrayC1EPKci", p, ctypes.c_char_p, ctypes.c_int)
        self.codec_for_name = self._fn("_ZN10QTextCodec12codecForNameERK10QByteArray", p, res=p)
        self.codec_for_locale = self._fn("_ZN10QTextCodec14codecForLocaleEv", res=p)
        self.available_codecs = self._fn("_ZN10QTextCodec15availableCodecsEv", p)
        self.from_unicode = self._fn("_ZNK10QTextCodec11fromUnicodeERK7QString", p, p, p)
        self.to_unicode = self._fn("_ZNK10QTextCodec9toUnicodeERK10QByteArray", p, p, p)
        self.locale = self._fn("_ZN7QLocaleC1ERK7QString", p, p)
        self.to_upper = self._fn("_ZNK7QLocale7toUpperERK7QString", p, p, p)
        self.to_lower = self._fn("_ZNK7QLocale7toLowerERK7QString", p, p, p)
        self.collator = self._fn("_ZN9QCollatorC1ERK7QLocale", p, p)
        self.compare = self._fn("_ZNK9QCollator7compareERK7QStringS2_", p, p, p, res=ctypes.c_int)

    def _fn(self, name: str, *args: Any, res: Any = None) -> Any:
        fn = getattr(self.core, name)
        fn.argtypes, fn.restype = list(args), res
        return fn

    @staticmethod
    def box() -> ctypes.Array[ctypes.c_void_p]:
        """Room for one Qt value object (a d-pointer; QCollator and QLocale are one pointer too)."""
        b = (ctypes.c_void_p * 2)()
        _KEEP.append(b)
        return b

    @staticmethod
    def _payload(d: int, unit: int) -> bytes:
        size = ctypes.c_int.from_address(d + 4).value
        offset = ctypes.c_int64.from_address(d + 16).value
        return ctypes.string_at(d + offset, size * unit)

    def qstring(self, text: str) -> ctypes.Array[ctypes.c_void_p]:
        raw = text.encode("utf-8")
        b = self.box()
        self.from_utf8(b, raw, len(raw))
        return b

    def text(self, b: ctypes.Array[ctypes.c_void_p]) -> str:
        return self._payload(b[0] or 0, 2).decode("utf-16-le", "surrogatepass")

    def qbytes(self, data: bytes) -> ctypes.Array[ctypes.c_void_p]:
        b = self.box()
        self.byte_array(b, data, len(data))
        return b

    def codec(self, codec: int | None) -> list[str] | None:
        """(SAMPLE encoded, BYTES decoded) by a codec, as hex of the bytes and of the UTF-16 code units."""
        if not codec:
            return None
        enc, dec = self.box(), self.box()
        self.from_unicode(enc, codec, self.qstring(SAMPLE))
        self.to_unicode(dec, codec, self.qbytes(BYTES))
        return [self._payload(enc[0] or 0, 1).hex(), self._payload(dec[0] or 0, 2).hex()]

    def codec_names(self) -> list[str]:
        """QTextCodec::availableCodecs(): a QList<QByteArray>, stored in place (d: ref, alloc, begin, end, items)."""
        lst = self.box()
        self.available_codecs(lst)
        d = lst[0] or 0
        begin, end = ctypes.c_int.from_address(d + 8).value, ctypes.c_int.from_address(d + 12).value
        return [
            self._payload(ctypes.c_void_p.from_address(d + 16 + 8 * i).value or 0, 1).decode()
            for i in range(begin, end)
        ]


def qt_results() -> dict[str, Any]:
    """Every Qt call of the probe with its result."""
    qt = Qt()
    out: dict[str, Any] = {"locale_codec": qt.codec(qt.codec_for_locale())}
    # codecForLocale() in a locale whose nl_langinfo(CODESET) is `charset`: ICU's ucnv_getDefaultName()
    # opens the charset and reports the converter's name (US-ASCII when it cannot open it), and Qt
    # then looks that name up, as codecForName() does.
    by_locale = {}
    for charset in LOCALE_CHARSETS:
        name = converter_name(charset) or "US-ASCII"
        by_locale[charset] = [name, qt.codec(qt.codec_for_name(qt.qbytes(name.encode())))]
    out["locale_codecs"] = by_locale
    names = qt.codec_names()
    out["available"] = names
    out["codecs"] = {n: qt.codec(qt.codec_for_name(qt.qbytes(n.encode()))) for n in sorted({*names, *LOCALE_CHARSETS})}
    case = {}
    for name in ("C", "en_US", "de_DE", "tr_TR", "az_AZ", "lt_LT", "el_GR", "nl_NL", "ja_JP"):
        loc = qt.box()
        qt.locale(loc, qt.qstring(name))
        up, low = qt.box(), qt.box()
        qt.to_upper(up, loc, qt.qstring("istanbul ıi ß ǆ ΐ ΌΣΟΣ άλφα ijs i̇ ﬃ"))  # noqa: RUF001
        qt.to_lower(low, loc, qt.qstring("İSTANBUL IÎ ΣΑΣ ĲS Ì J̃ ẞ"))
        case[name] = [qt.text(up), qt.text(low)]
    out["case"] = case
    collation = {}
    for name in ("C", "en_US", "sv_SE"):
        loc, coll = qt.box(), qt.box()
        qt.locale(loc, qt.qstring(name))
        qt.collator(coll, loc)
        pairs = (("a", "B"), ("ä", "z"), ("å", "z"), ("côte", "coté"), ("a", "a"))
        collation[name] = [qt.compare(coll, qt.qstring(a), qt.qstring(b)) for a, b in pairs]
    out["collation"] = collation
    return out


def frame_hashes() -> dict[str, str]:
    """sha256 of every frame of a fixed rollout of every procgen task, per task and distribution mode."""
    import envpool
    from envpool.tasks import TASKS

    out: dict[str, str] = {}
    for task in (t for t in TASKS if t.family == "procgen"):
        for mode in ("easy", "hard"):
            h = hashlib.sha256()
            env = envpool.make(task.task_id, num_envs=4, seed=7, distribution_mode=mode)
            obs, _ = env.reset()
            h.update(obs.tobytes())
            rng = np.random.default_rng(0)
            for _ in range(200):
                obs, *_ = env.step(rng.integers(0, 15, size=4))
                h.update(obs.tobytes())
            env.close()
            out[f"{task.task_id}/{mode}"] = h.hexdigest()
    return out


def main() -> None:
    """Command-line entry point: print ``{"shift_jis": ..., "result": ...}`` as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("frames", "qt"))
    parser.add_argument("--full-data", type=Path)
    args = parser.parse_args()
    if args.full_data:
        use_full_data(args.full_data)
    result = frame_hashes() if args.what == "frames" else qt_results()
    # Asked after the run, so that the probe itself cannot change what the run saw.
    print(json.dumps({"shift_jis": converter_name("Shift_JIS") is not None, "result": result}, sort_keys=True))


if __name__ == "__main__":
    main()
