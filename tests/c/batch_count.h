/* The element count of the MessagePack array a batch starts with (rust_core/src/output/wire.rs),
 * or -1: what a C host reads of a batch without a MessagePack library. */
#ifndef BATCH_COUNT_H
#define BATCH_COUNT_H

#include <stdint.h>

#include "barter_ffi.h"

static int64_t array_length(const BarterFfiBuffer *batch) {
    const uint8_t *bytes = batch->data;
    if (batch->len >= 1 && (bytes[0] & 0xF0) == 0x90) return bytes[0] & 0x0F;
    if (batch->len >= 3 && bytes[0] == 0xDC) return (int64_t)bytes[1] << 8 | bytes[2];
    if (batch->len >= 5 && bytes[0] == 0xDD)
        return (int64_t)bytes[1] << 24 | (int64_t)bytes[2] << 16 | (int64_t)bytes[3] << 8 | bytes[4];
    return -1;
}

#endif
