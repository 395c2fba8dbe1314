/* Token datasets for language models: llm.c's .bin token files, headerless token files and plain
 * text, all memory-mapped and cut into windows of T + 1 tokens.
 *
 * llm.c's format (dev/data/data_common.py): a header of 256 little-endian int32, of which
 *   [0] magic    20240520 (GPT-2 tokenizer, uint16 tokens) or 20240801 (LLaMA 3, uint32 tokens)
 *   [1] version  1 for 20240520, 7 for 20240801
 *   [2] count    tokens after the header
 * then exactly `count` tokens (llm.c refuses a file of any other size, and so do we).
 *
 * Window i covers tokens [i*T, i*T + T]: x is its first T tokens, y its last T (the next-token
 * targets). Windows step by T, so each token is a target exactly once per epoch and the last
 * token of one window is the first of the next; len = (count - 1) / T. A shuffling sampler gives
 * the random order llm.c gets from permuting its sample indices. */
#include "data_impl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LLMC_HEADER_INTS 256
#define LLMC_HEADER_BYTES (LLMC_HEADER_INTS * 4)

typedef struct token_state {
    ct__mapped_file file;
    const unsigned char *tokens; /* first token */
    int width;                   /* bytes per token: 1 (text), 2 or 4 */
    int64_t count, T;
    bool mapped;       /* text with a character vocabulary: ids come from map */
    uint8_t map[256];  /* byte -> character id */
} token_state;

static int64_t token_len(void *state) {
    token_state *s = state;
    return (s->count - 1) / s->T;
}

static int64_t token_at(const token_state *s, int64_t j) {
    const unsigned char *p = s->tokens + j * s->width;
    switch (s->width) {
    case 1: return s->mapped ? s->map[*p] : *p;
    case 2: return (int64_t)p[0] | (int64_t)p[1] << 8;
    default: return (int64_t)p[0] | (int64_t)p[1] << 8 | (int64_t)p[2] << 16 | (int64_t)p[3] << 24;
    }
}

static bool token_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    token_state *s = state;
    ct_tensor *x = ct_empty(CT_SHAPE(s->T), .dtype = CT_I64), *y = ct_empty(CT_SHAPE(s->T), .dtype = CT_I64);
    if (!x || !y) return false;
    int64_t *px = ct_data_ptr(x), *py = ct_data_ptr(y), start = i * s->T;
    int64_t prev = token_at(s, start);
    for (int64_t t = 0; t < s->T; t++) {
        int64_t next = token_at(s, start + t + 1);
        px[t] = prev, py[t] = next;
        prev = next;
    }
    return ct_sample_add(out, "x", x) && ct_sample_add(out, "y", y);
}

static void token_destroy(void *state) {
    token_state *s = state;
    ct__unmap_file(&s->file);
    free(s);
}

static const ct_dataset_vtable token_vtable = {"TokenDataset", token_len, token_get, token_destroy};
static const ct_dataset_vtable text_vtable = {"TextDataset", token_len, token_get, token_destroy};

/* Maps path and checks T against the tokens: the common part of both openers. *s is calloc'd. */
static token_state *open_tokens(const char *path, int64_t T, const char *who) {
    if (T < 1) return ct_error(CT_ERR_ARG, "%s: T must be at least 1, got %" PRId64, who, T);
    token_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "%s: out of memory", who);
    if (!ct__map_file(&s->file, path, who)) return free(s), NULL;
    s->T = T;
    return s;
}

static ct_dataset *finish(token_state *s, const ct_dataset_vtable *vt, const char *who) {
    if (s->count < s->T + 1) {
        ct_error(CT_ERR_IO, "%s: %s holds %" PRId64 " tokens, too few for one window of T + 1 = %" PRId64, who,
                 s->file.path, s->count, s->T + 1);
        return token_destroy(s), NULL;
    }
    return ct_dataset_new(vt, s);
}

static int32_t le32(const unsigned char *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Validates llm.c's header; sets width, count and tokens. */
static bool llmc_header(token_state *s) {
    const char *path = s->file.path;
    if (s->file.size < LLMC_HEADER_BYTES)
        return ct_error(CT_ERR_IO, "tokens: %s is truncated: the header needs %d bytes, the file has %zu", path,
                        LLMC_HEADER_BYTES, s->file.size), false;
    const unsigned char *h = s->file.data;
    int32_t magic = le32(h), version = le32(h + 4), count = le32(h + 8);
    int want_version;
    if (magic == 20240520) s->width = 2, want_version = 1;
    else if (magic == 20240801) s->width = 4, want_version = 7;
    else
        return ct_error(CT_ERR_IO, "tokens: %s has the wrong magic number %" PRId32 " (expected 20240520 for uint16 "
                        "or 20240801 for uint32 tokens: an llm.c token file)", path, magic), false;
    if (version != want_version)
        return ct_error(CT_ERR_IO, "tokens: %s has header version %" PRId32 ", expected %d for magic %" PRId32, path,
                        version, want_version, magic), false;
    if (count < 0) return ct_error(CT_ERR_IO, "tokens: %s: the header's token count %" PRId32 " is negative", path, count), false;
    size_t want = LLMC_HEADER_BYTES + (size_t)count * (size_t)s->width;
    if (s->file.size < want)
        return ct_error(CT_ERR_IO, "tokens: %s is truncated: the header says %" PRId32 " tokens (%zu bytes), the file "
                        "has %zu bytes", path, count, want, s->file.size), false;
    if (s->file.size > want)
        return ct_error(CT_ERR_IO, "tokens: %s has %zu bytes after the %" PRId32 " tokens its header counts", path,
                        s->file.size - want, count), false;
    s->count = count;
    s->tokens = h + LLMC_HEADER_BYTES;
    return true;
}

ct_dataset *ct_token_dataset_open_opt(const char *path, int64_t T, ct_token_opts opts) {
    if (opts.format != CT_TOKENS_LLMC && opts.format != CT_TOKENS_U16 && opts.format != CT_TOKENS_U32)
        return ct_error(CT_ERR_ARG, "tokens: unknown format %d", (int)opts.format);
    token_state *s = open_tokens(path, T, "tokens");
    if (!s) return NULL;
    if (opts.format == CT_TOKENS_LLMC) {
        if (!llmc_header(s)) return token_destroy(s), NULL;
    } else {
        s->width = opts.format == CT_TOKENS_U16 ? 2 : 4;
        if (s->file.size % (size_t)s->width) {
            ct_error(CT_ERR_IO, "tokens: %s is truncated: %zu bytes is not a whole number of uint%d tokens", path,
                     s->file.size, 8 * s->width);
            return token_destroy(s), NULL;
        }
        s->count = (int64_t)(s->file.size / (size_t)s->width);
        s->tokens = s->file.data;
    }
    return finish(s, &token_vtable, "tokens");
}

ct_dataset *ct_text_dataset_open_opt(const char *path, int64_t T, ct_text_opts opts) {
    token_state *s = open_tokens(path, T, "text");
    if (!s) return NULL;
    s->width = 1;
    s->count = (int64_t)s->file.size;
    s->tokens = s->file.data;
    if (opts.vocab) {
        /* One pass over the text for the characters it uses; ids in byte order. */
        bool used[256] = {false};
        for (int64_t j = 0; j < s->count; j++) used[s->tokens[j]] = true;
        memset(opts.vocab, 0, sizeof *opts.vocab);
        for (int c = 0; c < 256; c++)
            if (used[c]) s->map[c] = (uint8_t)opts.vocab->size, opts.vocab->chars[opts.vocab->size++] = (unsigned char)c;
        s->mapped = true;
    }
    return finish(s, &text_vtable, "text");
}
