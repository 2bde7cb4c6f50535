#!/usr/bin/env python3
"""Forced alignment of speech to its transcript with PocketSphinx (an external data tool).

Used only by scripts/make-aligned-corpus.ts to time the phones of real recordings; nothing that
ships runs or imports it. PocketSphinx (PyPI `pocketsphinx`, BSD-2-Clause, acoustic model and
CMU dictionary inside the wheel) is installed with `pip install pocketsphinx==5.1.1`.

Input (stdin): JSON list of jobs {"id", "raw", "text", "lexicon"?}: `raw` is a file of 16 kHz
mono signed 16-bit little-endian PCM, `text` lower-case words separated by single spaces,
`lexicon` an optional {word: "ARPABET PHONES"} for words the CMU dictionary lacks (added to
the decoder's dictionary, so they stay for the rest of the batch; dictionary words keep theirs).
Output (stdout): JSON list, one result per job, in order:
  {"id", "ok": true, "phones": [{"p": ARPAbet or "SIL", "start": s, "end": s}],
   "words": [{"w", "start", "end"}], "score": per-frame acoustic score}
  {"id", "ok": false, "error": "..."} for a job that could not be aligned (OOV words, no path).
Times are seconds from the start of the raw file (PocketSphinx frames are 10 ms).
"""
import json
import os
import sys

FRAME_S = 0.01
MAX_BYTES = 16000 * 2 * 120  # two minutes of audio per job bounds memory and time


def fail(job_id, msg):
    return {"id": job_id, "ok": False, "error": msg}


def load_dictionary(path):
    words = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            head = line.split(" ", 1)[0]
            if head:
                words.add(head.split("(", 1)[0])
    return words


def align(decoder, words, job):
    job_id = job.get("id")
    text = job.get("text")
    raw_path = job.get("raw")
    if not isinstance(text, str) or not text or not isinstance(raw_path, str):
        return fail(job_id, "expected text and raw")
    lexicon = job.get("lexicon") or {}
    if not isinstance(lexicon, dict):
        return fail(job_id, "lexicon: expected {word: phones}")
    for word, phones in lexicon.items():
        if word in words:
            continue
        if not isinstance(phones, str) or not phones.strip():
            return fail(job_id, f"lexicon: expected phones for {word!r}")
        decoder.add_word(word, phones.strip(), True)  # RuntimeError for a phone the model lacks
        words.add(word)
    oov = [w for w in text.split(" ") if w not in words]
    if oov:
        return fail(job_id, "words not in the CMU dictionary: " + ", ".join(sorted(set(oov))))
    size = os.path.getsize(raw_path)
    if size > MAX_BYTES:
        return fail(job_id, f"audio longer than {MAX_BYTES // 32000} s")
    with open(raw_path, "rb") as fh:
        raw = fh.read()
    # Word alignment first (the search), then the phone/state alignment of that path.
    decoder.set_align_text(text)
    decoder.start_utt()
    decoder.process_raw(raw, no_search=False, full_utt=True)
    decoder.end_utt()
    if decoder.hyp() is None:
        return fail(job_id, "no alignment path (audio and transcript disagree)")
    decoder.set_alignment()
    decoder.start_utt()
    decoder.process_raw(raw, no_search=False, full_utt=True)
    decoder.end_utt()
    alignment = decoder.get_alignment()
    if alignment is None:
        return fail(job_id, "no phone alignment")
    phones = []
    out_words = []
    score = 0
    frames = 0
    for w in alignment:
        name = w.name.split("(", 1)[0]
        if name not in ("<s>", "</s>", "<sil>"):
            out_words.append({"w": name, "start": w.start * FRAME_S, "end": (w.start + w.duration) * FRAME_S})
        for p in w:
            phones.append({"p": p.name, "start": p.start * FRAME_S, "end": (p.start + p.duration) * FRAME_S})
            score += p.score
            frames += p.duration
    return {"id": job_id, "ok": True, "phones": phones, "words": out_words, "score": score / max(1, frames)}


def main():
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError:
        sys.stderr.write("align.py: PocketSphinx is not installed (pip install pocketsphinx==5.1.1)\n")
        return 2
    jobs = json.load(sys.stdin)
    if not isinstance(jobs, list):
        sys.stderr.write("align.py: expected a JSON list of jobs on stdin\n")
        return 2
    words = load_dictionary(os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict"))
    decoder = Decoder(lm=None, loglevel="ERROR")
    results = []
    for i, job in enumerate(jobs):
        try:
            results.append(align(decoder, words, job))
        except Exception as e:  # one bad clip must not lose the rest of the batch
            results.append(fail(job.get("id") if isinstance(job, dict) else i, f"{type(e).__name__}: {e}"))
        if (i + 1) % 50 == 0:
            sys.stderr.write(f"aligned {i + 1}/{len(jobs)}\n")
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
