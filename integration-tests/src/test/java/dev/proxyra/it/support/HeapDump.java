package dev.proxyra.it.support;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * A heap dump of the JDK (jcmd GC.heap_dump, HPROF 1.0.2, at most 2 GB) read for one question: what keeps a class
 * loader reachable. Strong references only: the referent of a weak, soft or phantom reference is no path.
 * {@link #pathsToLoadersOf} answers with a shortest path from a GC root to each loader that defined a class.
 */
public final class HeapDump {
    private static final int OBJECT = 2;

    private final MappedByteBuffer b;
    private final int idSize;
    private final Map<Long, String> strings = new HashMap<>();
    private final Map<Long, Long> classNameIds = new HashMap<>();
    private final Map<Integer, Long> classBySerial = new HashMap<>();
    private final Map<Long, String[]> frames = new HashMap<>(); // frame id -> {method name, class serial}
    private final Map<Integer, long[]> traceByThread = new HashMap<>(); // thread serial -> frame ids
    private final Map<Integer, Long> threadBySerial = new HashMap<>();
    private final Map<Long, ClassDump> classes = new HashMap<>();
    private final Map<Long, Integer> positions = new HashMap<>(); // object id -> position of its sub-record body
    private final Map<Long, Byte> kinds = new HashMap<>();
    private final List<long[]> roots = new ArrayList<>(); // {object, kind, thread serial, frame} (the last two for frames)

    private static final class ClassDump {
        long id;
        long superclass;
        long loader;
        long[] staticRefs;
        String[] staticNames;
        byte[] fieldTypes;
        long[] fieldNames;
    }

    private HeapDump(MappedByteBuffer b) {
        this.b = b;
        while (b.get() != 0) {
            // the format's name, "JAVA PROFILE 1.0.2"
        }
        this.idSize = b.getInt();
        b.getLong();
        while (b.hasRemaining()) {
            int tag = b.get() & 0xff;
            b.getInt();
            long length = b.getInt() & 0xffffffffL;
            int start = b.position();
            switch (tag) {
                case 0x01 -> {
                    long id = id();
                    byte[] text = new byte[(int) length - idSize];
                    b.get(text);
                    strings.put(id, new String(text, StandardCharsets.UTF_8));
                }
                case 0x02 -> {
                    int serial = b.getInt();
                    long classId = id();
                    b.getInt();
                    classNameIds.put(classId, id());
                    classBySerial.put(serial, classId);
                }
                case 0x04 -> {
                    long frame = id();
                    long method = id();
                    id();
                    id();
                    frames.put(frame, new String[] {strings.getOrDefault(method, "?"), Integer.toString(b.getInt())});
                }
                case 0x05 -> {
                    b.getInt();
                    int thread = b.getInt();
                    long[] ids = new long[b.getInt()];
                    for (int i = 0; i < ids.length; i++) {
                        ids[i] = id();
                    }
                    traceByThread.put(thread, ids);
                }
                case 0x0C, 0x1C -> heap(start + (int) length);
                default -> {
                    // not needed for paths
                }
            }
            b.position(start + (int) length);
        }
    }

    public static HeapDump read(Path hprof) throws IOException {
        try (FileChannel channel = FileChannel.open(hprof)) {
            return new HeapDump(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()));
        }
    }

    /**
     * For each class loader that defined a class named {@code className} (dots), a shortest strong path from a GC
     * root to it, root first, or an empty list when nothing reaches it. Java-frame roots whose method
     * ({@code class.method}, slashes) {@code ignoredFrame} accepts, and fields ({@code class}, {@code field}) that
     * {@code ignoredField} accepts, are no path: what a caller knows its server keeps, so that what remains shows
     * whether anything else does.
     */
    public Map<Long, List<String>> pathsToLoadersOf(String className, Predicate<String> ignoredFrame,
                                                    BiPredicate<String, String> ignoredField) {
        String name = className.replace('.', '/');
        Set<Long> loaders = new LinkedHashSet<>();
        for (ClassDump c : classes.values()) {
            if (name.equals(className(c.id))) {
                loaders.add(c.loader);
            }
        }
        Map<Long, Long> parent = new HashMap<>();
        Map<Long, String> via = new HashMap<>();
        ArrayDeque<Long> queue = new ArrayDeque<>();
        for (long[] root : roots) {
            if (parent.containsKey(root[0]) || root[1] == 0x03 && ignoredFrame.test(frameMethod(root))) {
                continue;
            }
            parent.put(root[0], null);
            via.put(root[0], rootDescription(root));
            queue.add(root[0]);
        }
        while (!queue.isEmpty()) {
            long from = queue.poll();
            references(from, ignoredField, (to, field) -> {
                if (to != 0 && !parent.containsKey(to)) {
                    parent.put(to, from);
                    via.put(to, field);
                    queue.add(to);
                }
            });
        }
        Map<Long, List<String>> paths = new java.util.LinkedHashMap<>();
        for (long loader : loaders) {
            List<String> path = new ArrayList<>();
            if (parent.containsKey(loader)) {
                for (Long at = loader; at != null; at = parent.get(at)) {
                    path.add((parent.get(at) == null ? via.get(at) + ": " : "." + via.get(at) + " -> ") + describe(at));
                }
                Collections.reverse(path);
            }
            paths.put(loader, path);
        }
        return paths;
    }

    private String rootDescription(long[] root) {
        String kind = switch ((int) root[1]) {
            case 0x01 -> "JNI global";
            case 0x02 -> "JNI local";
            case 0x03 -> "frame " + frameMethod(root) + " of " + describe(threadBySerial.getOrDefault((int) root[2], 0L));
            case 0x05 -> "system class";
            case 0x07 -> "monitor";
            case 0x08 -> "thread";
            default -> "root 0x" + Long.toHexString(root[1]);
        };
        return "root (" + kind + ")";
    }

    private String frameMethod(long[] root) {
        long[] trace = traceByThread.get((int) root[2]);
        if (trace == null || root[3] < 0 || root[3] >= trace.length) {
            return "?";
        }
        String[] frame = frames.get(trace[(int) root[3]]);
        if (frame == null) {
            return "?";
        }
        Long classId = classBySerial.get(Integer.parseInt(frame[1]));
        return (classId == null ? "?" : className(classId)) + "." + frame[0];
    }

    private interface Sink {
        void reference(long to, String field);
    }

    private void references(long object, BiPredicate<String, String> ignoredField, Sink sink) {
        ClassDump type = classes.get(object);
        if (type != null) {
            sink.reference(type.superclass, "<superclass>");
            sink.reference(type.loader, "<loader>");
            for (int i = 0; i < type.staticRefs.length; i++) {
                sink.reference(type.staticRefs[i], "static " + type.staticNames[i]);
            }
            return;
        }
        Integer at = positions.get(object);
        if (at == null || kinds.get(object) == 0x23) {
            return;
        }
        int pos = at + idSize + 4;
        if (kinds.get(object) == 0x22) {
            int length = b.getInt(pos);
            sink.reference(idAt(pos + 4), "<class>");
            for (int i = 0; i < length; i++) {
                sink.reference(idAt(pos + 4 + idSize + i * idSize), "[" + i + "]");
            }
            return;
        }
        long classId = idAt(pos);
        pos += idSize + 4;
        sink.reference(classId, "<class>");
        boolean reference = isA(classId, "java/lang/ref/Reference");
        for (ClassDump c = classes.get(classId); c != null; c = classes.get(c.superclass)) {
            String declaring = className(c.id);
            for (int i = 0; i < c.fieldTypes.length; i++) {
                if (c.fieldTypes[i] == OBJECT) {
                    String field = strings.get(c.fieldNames[i]);
                    boolean referent = reference && "referent".equals(field) && "java/lang/ref/Reference".equals(declaring);
                    if (!referent && !ignoredField.test(declaring, field)) {
                        sink.reference(idAt(pos), field);
                    }
                }
                pos += size(c.fieldTypes[i]);
            }
        }
    }

    private String describe(long object) {
        if (classes.containsKey(object)) {
            return "class " + className(object);
        }
        Integer at = positions.get(object);
        if (at == null) {
            return "@" + Long.toHexString(object);
        }
        if (kinds.get(object) != 0x21) {
            return "array@" + Long.toHexString(object);
        }
        long classId = idAt(at + idSize + 4);
        String extra = "";
        if (isA(classId, "java/lang/Thread")) {
            extra = " \"" + string(field(object, "name")) + "\"";
        } else if (isA(classId, "java/lang/ClassLoader")) {
            extra = " " + string(field(object, "nameAndId"));
        }
        return className(classId) + "@" + Long.toHexString(object) + extra;
    }

    private long field(long object, String name) {
        int pos = positions.get(object) + idSize + 4;
        long classId = idAt(pos);
        pos += idSize + 4;
        for (ClassDump c = classes.get(classId); c != null; c = classes.get(c.superclass)) {
            for (int i = 0; i < c.fieldTypes.length; i++) {
                if (c.fieldTypes[i] == OBJECT && name.equals(strings.get(c.fieldNames[i]))) {
                    return idAt(pos);
                }
                pos += size(c.fieldTypes[i]);
            }
        }
        return 0;
    }

    /** A java.lang.String's text (Latin-1 or UTF-16 as the JDK keeps it), or null. */
    private String string(long object) {
        if (object == 0 || !positions.containsKey(object)) {
            return null;
        }
        Integer value = positions.get(field(object, "value"));
        if (value == null) {
            return "?";
        }
        int pos = value + idSize + 4;
        byte[] bytes = new byte[b.getInt(pos)];
        b.get(pos + 5, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1).replace("\0", "");
    }

    private boolean isA(long classId, String name) {
        for (ClassDump c = classes.get(classId); c != null; c = classes.get(c.superclass)) {
            if (name.equals(className(c.id))) {
                return true;
            }
        }
        return false;
    }

    private String className(long classId) {
        Long name = classNameIds.get(classId);
        return name == null ? "?" : strings.getOrDefault(name, "?");
    }

    private long id() {
        return idSize == 8 ? b.getLong() : b.getInt() & 0xffffffffL;
    }

    private long idAt(int position) {
        return idSize == 8 ? b.getLong(position) : b.getInt(position) & 0xffffffffL;
    }

    private int size(int type) {
        return switch (type) {
            case OBJECT -> idSize;
            case 4, 8 -> 1;
            case 5, 9 -> 2;
            case 6, 10 -> 4;
            case 7, 11 -> 8;
            default -> throw new IllegalStateException("HPROF basic type " + type);
        };
    }

    private void skip(int bytes) {
        b.position(b.position() + bytes);
    }

    private void heap(int end) {
        while (b.position() < end) {
            int tag = b.get() & 0xff;
            switch (tag) {
                case 0xFF, 0x05, 0x07 -> roots.add(new long[] {id(), tag, -1, -1});
                case 0x01 -> {
                    roots.add(new long[] {id(), tag, -1, -1});
                    id();
                }
                case 0x02, 0x03 -> roots.add(new long[] {id(), tag, b.getInt(), b.getInt()});
                case 0x08 -> {
                    long thread = id();
                    threadBySerial.put(b.getInt(), thread);
                    b.getInt();
                    roots.add(new long[] {thread, tag, -1, -1});
                }
                case 0x04, 0x06 -> {
                    roots.add(new long[] {id(), tag, -1, -1});
                    b.getInt();
                }
                case 0x20 -> classDump();
                case 0x21 -> {
                    int at = b.position();
                    long object = id();
                    b.getInt();
                    id();
                    skip(b.getInt());
                    positions.put(object, at);
                    kinds.put(object, (byte) 0x21);
                }
                case 0x22 -> {
                    int at = b.position();
                    long object = id();
                    b.getInt();
                    int length = b.getInt();
                    id();
                    skip(length * idSize);
                    positions.put(object, at);
                    kinds.put(object, (byte) 0x22);
                }
                case 0x23 -> {
                    int at = b.position();
                    long object = id();
                    b.getInt();
                    int length = b.getInt();
                    skip(length * size(b.get()));
                    positions.put(object, at);
                    kinds.put(object, (byte) 0x23);
                }
                default -> throw new IllegalStateException("HPROF heap sub-record 0x" + Integer.toHexString(tag));
            }
        }
    }

    private void classDump() {
        ClassDump c = new ClassDump();
        c.id = id();
        b.getInt();
        c.superclass = id();
        c.loader = id();
        for (int i = 0; i < 4; i++) {
            id(); // signers, protection domain, two reserved
        }
        b.getInt();
        int constants = b.getShort() & 0xffff;
        for (int i = 0; i < constants; i++) {
            b.getShort();
            skip(size(b.get()));
        }
        int statics = b.getShort() & 0xffff;
        List<Long> refs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < statics; i++) {
            long name = id();
            int type = b.get();
            if (type == OBJECT) {
                refs.add(id());
                names.add(strings.get(name));
            } else {
                skip(size(type));
            }
        }
        c.staticRefs = refs.stream().mapToLong(Long::longValue).toArray();
        c.staticNames = names.toArray(new String[0]);
        int fields = b.getShort() & 0xffff;
        c.fieldTypes = new byte[fields];
        c.fieldNames = new long[fields];
        for (int i = 0; i < fields; i++) {
            c.fieldNames[i] = id();
            c.fieldTypes[i] = b.get();
        }
        classes.put(c.id, c);
    }
}
