// Counts heap allocations by defining malloc and its siblings in the executable, which
// the dynamic linker then binds every shared library's calls to (glibc exports the real
// ones as __libc_*). Linux and glibc only; elsewhere the count stays 0.
#include "AllocationCounter.h"

#include <errno.h>  // also defines __GLIBC__ on glibc
#include <stdatomic.h>
#include <stddef.h>

#if defined(__linux__) && defined(__GLIBC__)

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static _Atomic unsigned long long allocations;

static inline void counted(void) { atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed); }

void *malloc(size_t size) { counted(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { counted(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { counted(); return __libc_realloc(pointer, size); }
void *memalign(size_t alignment, size_t size) { counted(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { counted(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    counted();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = pointer;
    return 0;
}
void free(void *pointer) { __libc_free(pointer); }

unsigned long long switchboard_allocation_count(void) {
    return atomic_load_explicit(&allocations, memory_order_relaxed);
}
#else
unsigned long long switchboard_allocation_count(void) { return 0; }
#endif
