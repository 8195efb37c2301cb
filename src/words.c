// SPDX-License-Identifier: GPL-3.0-or-later
// Words as the cast sheet's [say] and `radioplay check` see them, and the
// [say] lookup (declared in rp_cast.h). Apart from cast.c's sheet parser so
// that what respells a line (speech.c) links without libinih and what the
// parser calls: the workers' program (src/worker_main.c) is speech and the
// clip cache, not the cast sheet.
#include "rp_cast.h"

#include <string.h>

// Letters of any script: everything outside ASCII counts except the
// punctuation and symbol blocks prose uses (Latin-1 signs, general
// punctuation such as U+2019 and U+2014, CJK punctuation, BOM, U+FFFD).
static int is_word_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return c >= 0xC0 && c != 0xD7 && c != 0xF7 && !(c >= 0x2000 && c <= 0x2BFF) &&
           !(c >= 0x3000 && c <= 0x303F) && c != 0xFEFF && c != 0xFFFD;
}

static int is_joiner(uint32_t c)
{
    return c == '\'' || c == 0x2019 || c == '-' || c == 0x2010;
}

int rp_word_next(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    int l;
    while (i < len && !is_word_cp(rp_utf8_decode(text + i, len - i, &l)))
        i += (size_t)l;
    if (i >= len) {
        *pos = len;
        return 0;
    }
    *start = i;
    while (i < len) {
        uint32_t c = rp_utf8_decode(text + i, len - i, &l);
        if (is_word_cp(c)) {
            i += (size_t)l;
            continue;
        }
        int l2;
        if (!is_joiner(c) || i + (size_t)l >= len ||
            !is_word_cp(rp_utf8_decode(text + i + l, len - i - (size_t)l, &l2)))
            break;
        i += (size_t)l;
    }
    *pos = *end = i;
    return 1;
}

// One code point of a [say] key or word, folded for comparison: ASCII
// letters to lower case, U+2019 to '.
static uint32_t fold_cp(const char *s, size_t n, int *len)
{
    uint32_t c = rp_utf8_decode(s, n, len);
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    return c == 0x2019 ? '\'' : c;
}

int rp_word_same_letters(const char *key, const char *w, size_t len)
{
    size_t i = 0, j = 0, klen = strlen(key);
    while (i < klen && j < len) {
        int a, b;
        if (fold_cp(key + i, klen - i, &a) != fold_cp(w + j, len - j, &b))
            return 0;
        i += (size_t)a, j += (size_t)b;
    }
    return i == klen && j == len;
}

static int word_matches(const char *key, const char *w, size_t len)
{
    if ((key[0] >= 'A' && key[0] <= 'Z') && !(w[0] >= 'A' && w[0] <= 'Z'))
        return 0;
    return rp_word_same_letters(key, w, len);
}

const rp_respelling *rp_respelling_find(const rp_respelling *list, size_t n, const char *w,
                                        size_t len)
{
    if (!len)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (word_matches(list[i].word, w, len))
            return &list[i];
    return NULL;
}
