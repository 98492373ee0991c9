#!/usr/bin/env python3
"""Hugging Face `tokenizers` reference for quant-mlir's runtime tokenizer.

Builds a `tokenizers.Tokenizer` from the tokenizer metadata of a GGUF file
(read with the `gguf` package; nothing is downloaded) the way SmolLM2's
tokenizer.json defines it: a BPE model over the GGUF vocabulary and merges
(no unk_token, no dropout), the pre-tokenizer
Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False,
use_regex=True)] for tokenizer.ggml.pre "smollm" (ByteLevel alone for
"gpt-2"), and the ByteLevel decoder. Control tokens (token_type 3) are
special added tokens, matched in the text only with --special; user-defined
ones (4) are always matched.

Sub-commands
  encode       print the ids of a text, space-separated on one line
  check        compare ids that qnt-tokenize printed with this tokenizer's,
               for each --case: "PASS: FILE (KIND): N tokens identical", or
               "FAIL: ..." with the first differing position (and exit
               status 1)
  probe        write a text with every code point of planes 0-3 and 14 (and
               a sample of the others) in the context "!ccc!\\n", which gets
               a different split for each of \\p{L}, \\p{N}, \\s and the rest
  check-words  compare `qnt-tokenize --words` (byte ranges of the
               pre-tokenizer's words) with HF's pre-tokenizer on a text
  tokenizer-gguf
               write a GGUF with only the tokenizer metadata of --model,
               with tokenizer.ggml.pre replaced by --pre (to check the
               "gpt-2" pre-tokenizer on SmolLM2's vocabulary)

Texts are read as bytes and decoded as UTF-8 without newline translation.

Example:
  qnt-tokenize model.gguf --file wiki.test.raw > ids
  hf_tokenize.py check --model model.gguf --case text wiki.test.raw ids
"""

import argparse
import sys


def read_text(args):
    if args.text is not None:
        return args.text
    with open(args.file, "rb") as f:
        return f.read().decode("utf-8")


def gguf_tokenizer_fields(path):
    from gguf import GGUFReader

    reader = GGUFReader(path)

    def get(key, default=None):
        field = reader.fields.get(key)
        return default if field is None else field.contents()

    return {
        "model": get("tokenizer.ggml.model"),
        "pre": get("tokenizer.ggml.pre"),
        "tokens": get("tokenizer.ggml.tokens"),
        "types": get("tokenizer.ggml.token_type"),
        "merges": get("tokenizer.ggml.merges"),
    }


def build_tokenizer(path, special):
    """The HF tokenizer of a GGUF; `special` matches control tokens in the
    text (can be changed later through encode_special_tokens)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models
    from tokenizers import pre_tokenizers

    fields = gguf_tokenizer_fields(path)
    if fields["model"] != "gpt2":
        sys.exit("hf_tokenize.py: tokenizer.ggml.model is %r, not 'gpt2'"
                 % fields["model"])
    tokens = fields["tokens"]
    types = fields["types"] or [1] * len(tokens)
    vocab = {token: i for i, token in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in fields["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges))

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False,
                                          use_regex=True)
    if fields["pre"] == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level])
    elif fields["pre"] == "gpt-2":
        tok.pre_tokenizer = byte_level
    else:
        sys.exit("hf_tokenize.py: unsupported tokenizer.ggml.pre %r"
                 % fields["pre"])
    tok.decoder = decoders.ByteLevel()

    control = [t for t, ty in zip(tokens, types) if ty == 3]
    user = [t for t, ty in zip(tokens, types) if ty == 4]
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in control])
    tok.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t in user])
    # Special added tokens are split like text when this is set.
    tok.encode_special_tokens = not special
    return tok


def cmd_encode(args):
    tok = build_tokenizer(args.model, args.special)
    print(" ".join(map(str, tok.encode(read_text(args)).ids)))


def check_case(tok, kind, path, ids_path):
    """Compares the ids in `ids_path` with HF's ids of the text in `path`;
    prints one PASS or FAIL line and returns whether they match."""
    tok.encode_special_tokens = kind != "special"
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    ref = tok.encode(text).ids
    with open(ids_path) as f:
        ours = [int(w) for w in f.read().split()]
    name = "%s (%s)" % (path.rsplit("/", 1)[-1], kind)

    def show(ids, i):
        return "%d %r" % (ids[i], tok.id_to_token(ids[i])) \
            if i < len(ids) else "(end)"

    first = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b),
                 None)
    if first is None and len(ours) == len(ref):
        print("PASS: %s: %d tokens identical" % (name, len(ref)))
        return True
    if first is None:
        first = min(len(ours), len(ref))
    context = tok.decode(ref[max(0, first - 8):first + 8],
                         skip_special_tokens=False)
    print("FAIL: %s: first mismatch at token %d (ours: %d tokens, hf: %d): "
          "ours %s, hf %s; hf text around it: %r"
          % (name, first, len(ours), len(ref), show(ours, first),
             show(ref, first), context))
    return False


def cmd_check(args):
    # Reading the GGUF takes seconds: one tokenizer for all the cases.
    for kind, _, _ in args.case:
        if kind not in ("text", "special"):
            sys.exit("hf_tokenize.py: case kind %r is not 'text' or "
                     "'special'" % kind)
    tok = build_tokenizer(args.model, special=True)
    results = [check_case(tok, *case) for case in args.case]
    return 0 if all(results) else 1


def probe_code_points():
    planes = [c for c in range(0x40000) if not 0xD800 <= c <= 0xDFFF]
    tags = list(range(0xE0000, 0xE1000))
    # Planes 4-13 are unassigned and 15-16 private use: a sample.
    rest = list(range(0x40000, 0xE0000, 0x101)) + \
        list(range(0xE1000, 0x110000, 0x101))
    return planes + tags + rest


def cmd_probe(args):
    # With c a letter: "!" "ccc" "!"; a number: each c alone (Digits);
    # white space: "cc" "c" (\s+(?!\S) leaves the last one); other: one
    # word "!ccc!". So the split tells the four classes apart.
    text = "".join("!%s!\n" % (chr(c) * 3) for c in probe_code_points())
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


def cmd_check_words(args):
    tok = build_tokenizer(args.model, special=False)
    text = read_text(args)
    with open(args.words) as f:
        ours = [tuple(map(int, w.split(":"))) for w in f.read().split()]
    # HF's lists of words are large: split the text after line ends that
    # have no white space on either side (a word ends there, and no
    # lookahead crosses it). Each ByteLevel word has one character per
    # byte, so byte offsets add up from the lengths.
    ref = []
    offset = start = 0
    while start < len(text):
        end = text.find("\n", start + (1 << 16))
        while end != -1 and end + 1 < len(text) and (
                text[end - 1].isspace() or text[end + 1].isspace()):
            end = text.find("\n", end + 1)
        end = len(text) if end == -1 else end + 1
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(text[start:end]):
            ref.append((offset, offset + len(word)))
            offset += len(word)
        start = end
    data = text.encode("utf-8")
    for i, (a, b) in enumerate(zip(ours, ref)):
        if a != b:
            print("FAIL: word %d: ours %r, hf %r (bytes %r)"
                  % (i, data[a[0]:a[1]], data[b[0]:b[1]],
                     data[min(a[0], b[0]) - 8:max(a[1], b[1]) + 8]))
            return 1
    if len(ours) != len(ref):
        print("FAIL: ours has %d words, hf %d" % (len(ours), len(ref)))
        return 1
    print("PASS: %d words identical" % len(ref))
    return 0


def cmd_tokenizer_gguf(args):
    from gguf import GGUFReader, GGUFWriter

    reader = GGUFReader(args.model)
    writer = GGUFWriter(args.out, arch="llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(args.pre)
    fields = gguf_tokenizer_fields(args.model)
    writer.add_token_list(fields["tokens"])
    writer.add_token_types(fields["types"])
    writer.add_token_merges(fields["merges"])
    for key, add in [("bos", writer.add_bos_token_id),
                     ("eos", writer.add_eos_token_id),
                     ("unknown", writer.add_unk_token_id),
                     ("padding", writer.add_pad_token_id)]:
        field = reader.fields.get("tokenizer.ggml.%s_token_id" % key)
        if field is not None:
            add(field.contents())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return 0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    def add_input(p, with_special=True):
        p.add_argument("--model", required=True, help="GGUF file")
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--text")
        group.add_argument("--file")
        if with_special:
            p.add_argument("--special", action="store_true",
                           help="match control tokens in the text")

    add_input(sub.add_parser("encode"))
    p = sub.add_parser("check")
    p.add_argument("--model", required=True, help="GGUF file")
    p.add_argument("--case", nargs=3, action="append", required=True,
                   metavar=("KIND", "TEXT_FILE", "IDS_FILE"),
                   help="KIND is 'text' (control tokens are text) or "
                   "'special' (qnt-tokenize --special); IDS_FILE holds "
                   "qnt-tokenize's ids of TEXT_FILE")
    sub.add_parser("probe")
    p = sub.add_parser("check-words")
    add_input(p, with_special=False)
    p.add_argument("--words", required=True,
                   help="output of qnt-tokenize --words")
    p = sub.add_parser("tokenizer-gguf")
    p.add_argument("--model", required=True, help="GGUF file")
    p.add_argument("--pre", required=True, help="tokenizer.ggml.pre")
    p.add_argument("--out", required=True, help="the GGUF to write")
    args = parser.parse_args()
    return {"encode": cmd_encode, "check": cmd_check, "probe": cmd_probe,
            "check-words": cmd_check_words,
            "tokenizer-gguf": cmd_tokenizer_gguf}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
