/*
 * ctx_backend.h - private: what each back end of the ctx layer provides.
 *
 * ctx.c holds what all back ends share (the sanitizer hooks, the first call
 * into a new context); a back end only knows how to lay out a new context
 * and how to swap two.  Like Redis's ae_epoll.c / ae_kqueue.c behind ae.c.
 */
#ifndef GREEN_CTX_BACKEND_H
#define GREEN_CTX_BACKEND_H

#include "ctx.h"

/* Prepare c so that the first swap into it calls green__ctx_start(c, value)
 * on s. */
void green__ctx_backend_make(green_ctx_t *c, green_stack_t *s);

/* Save the running context in `from`, resume `to` handing it `value`;
 * return the value handed back when someone resumes `from`. */
void *green__ctx_backend_swap(green_ctx_t *from, green_ctx_t *to, void *value);

/* Called by the back end, on the new stack, the first time c runs. */
void green__ctx_start(green_ctx_t *c, void *value);

#endif
