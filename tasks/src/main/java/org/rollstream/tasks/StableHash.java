package org.rollstream.tasks;

import java.nio.charset.StandardCharsets;

/** A hash that never changes across JVMs or releases: it decides splits and ids, so it must stay fixed. */
final class StableHash {

    private StableHash() {
    }

    /** FNV-1a 64 over the UTF-8 bytes of task and text, then a splitmix finaliser so low bits mix well. */
    static long of(String task, String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (task + '\u0000' + text).getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    static String id(String task, String text) {
        return task + "-" + String.format("%016x", of(task, text));
    }
}
