// SPDX-License-Identifier: GPL-3.0-or-later
// The short vectors the sample loops use (GCC's vector extension, which
// gives SSE2 on x86-64 and NEON elsewhere without an intrinsic of either),
// and the lane select they share. Internal to the .c files that do
// arithmetic on samples: no public function takes or returns one.
#ifndef RP_VEC_H
#define RP_VEC_H

#include <stdint.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int16_t v8s __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));

// a where mask is set, else b, lane by lane (the compiler makes no vector
// select of its own from a ternary in C).
static inline v4f rp_vec_pick(v4i mask, v4f a, v4f b)
{
    return (v4f)(((v4i)a & mask) | ((v4i)b & ~mask));
}

// a > b ? a : b and a < b ? a : b, lane by lane, exactly: b where they are
// equal or either is a NaN. That is what SSE's maxps and minps do, one
// instruction each where the select takes four (GCC does not turn the
// select into either by itself).
static inline v4f rp_vec_max(v4f a, v4f b)
{
#ifdef __SSE__
    return __builtin_ia32_maxps(a, b);
#else
    return rp_vec_pick(a > b, a, b);
#endif
}

static inline v4f rp_vec_min(v4f a, v4f b)
{
#ifdef __SSE__
    return __builtin_ia32_minps(a, b);
#else
    return rp_vec_pick(a < b, a, b);
#endif
}

// |v|, lane by lane: v without its sign bit.
static inline v4f rp_vec_abs(v4f v)
{
    return (v4f)((v4i)v & 0x7fffffff);
}

// The larger of top and v, lane by lane; a NaN in v is passed over.
static inline v4f rp_vec_larger(v4f top, v4f v)
{
    return rp_vec_max(v, top);
}

// The largest of v's lanes and floor (NaNs passed over).
static inline float rp_vec_top(v4f v, float floor)
{
    for (int k = 0; k < 4; k++)
        floor = v[k] > floor ? v[k] : floor;
    return floor;
}

// The low halves of a's and b's lanes (each within 16 bits), in order.
static inline v8s rp_vec_pack16(v4i a, v4i b)
{
    return __builtin_shufflevector((v8s)a, (v8s)b, 0, 2, 4, 6, 8, 10, 12, 14);
}

#endif
