#ifndef SWITCHBOARD_ALLOCATION_COUNTER_H
#define SWITCHBOARD_ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, aligned allocations) made by this process so far.
///
/// Counted by the benchmark executables that link this target, which define the C
/// allocator's entry points themselves and forward them to glibc's: every allocation of
/// the process, Swift's runtime and NIO's included, passes through them. Never link it
/// into a library.
unsigned long long switchboard_allocation_count(void);

#endif
