package org.pinhole;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * The Java binding on this machine's JVM: the signed config of the test vectors
 * (proto/vectors/v1.txt), reports and their sizes, errors as exceptions, the budget through a
 * BudgetStore, memoization, the outbox, HttpUploader against a local HTTP server that first
 * answers 503 and then 200, and every error code of the C header (system property
 * pinhole.header) as a PinholeException constant of the same name and value.
 */
public class PinholeTest {
    static final String SIGNING_KEY =
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    static final String SEAL_KEY = "30f3af217c81f948b0b340da6b9d4e15b2c7b07e8586ab598b59e444c9a15251";
    static final String SIGNED =
            "010100000700000000000000000400000000000000000000000010404300000003000000100e0000"
            + "6400000000000000000000000000000000000000000000000000000000000000f73dcdbf5b501f61"
            + "593e4bc83cdc1b2531f63a2c4cdc2b2db8e162384067907be8bda96a6785b0a43b49c5c9f4549598"
            + "9ad91023297ea7bcd014f697c65ac602";

    static final String LABELS_SIGNED =
            "0202000009000000000000000400000000000000000000000000f03f000000000000000080510100"
            + "000000000000000000000000000000000000000000000000000000000000000034f9bab0b119143c"
            + "f98de140da11551f8d59f9da7fc4d65eceda8cf2a63c2fcb03000000000000007d3eff9861e6461e"
            + "037a279ac6074eb464a16459f83ad228e2b53feb713421612cd6cd0e13e12b7c03bdafe200c4cae8"
            + "f6d8d38888bed1f7f7f848a6ba3ea30d";
    static final String LABELS_LIST =
            "040000000000000005000000616c706861040000006265746105000000c3a974c3a9050000006f74"
            + "686572";

    static PinholeCollection vectorCollection() throws PinholeException {
        return PinholeCollection.fromSignedConfig(
                Pinhole.hexDecode(SIGNED), Pinhole.hexDecode(SIGNING_KEY));
    }

    /** Every PINHOLE_E* code of the C header, by name, has its constant here with its value. */
    @Test
    public void errorCodesMatchTheHeader() throws Exception {
        String path = System.getProperty("pinhole.header");
        assertTrue("run with -Dpinhole.header=client/include/pinhole/pinhole.h", path != null);
        String header = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\\bPINHOLE_(E[A-Z]+) = (-[0-9]+),").matcher(header);
        Map<String, Integer> c = new HashMap<>();
        while (m.find())
            c.put(m.group(1), Integer.parseInt(m.group(2)));
        assertEquals(22, c.size()); /* -1 .. -22, and each code once */
        for (int code = -1; code >= -22; code--)
            assertTrue("no PINHOLE_E* = " + code, c.containsValue(code));
        assertEquals(Integer.valueOf(-21), c.get("ENOSPACE"));
        assertEquals(Integer.valueOf(-22), c.get("ECLOSED"));
        for (Map.Entry<String, Integer> e : c.entrySet())
            assertEquals("PinholeException." + e.getKey(), (int) e.getValue(),
                    PinholeException.class.getField(e.getKey()).getInt(null));
        int fields = 0; /* and no constant here that the header does not have */
        for (java.lang.reflect.Field f : PinholeException.class.getFields())
            if (f.getName().startsWith("E")) {
                assertTrue("PinholeException." + f.getName() + " is not in the header",
                        c.containsKey(f.getName()));
                fields++;
            }
        assertEquals(c.size(), fields);
    }

    @Test
    public void versionAndHex() throws Exception {
        assertEquals("0.1.0", Pinhole.version());
        assertArrayEquals(new byte[] {0, (byte) 0xff, (byte) 0xa1}, Pinhole.hexDecode("00fFa1"));
        assertEquals("dead01", Pinhole.hexEncode(new byte[] {(byte) 0xde, (byte) 0xad, 1}));
        try {
            Pinhole.hexDecode("abc");
            fail("odd length accepted");
        } catch (PinholeException e) {
            assertEquals(PinholeException.EFORMAT, e.getCode());
        }
        byte[] s1 = Pinhole.newDeviceSecret();
        assertEquals(32, s1.length);
        assertFalse(Arrays.equals(s1, Pinhole.newDeviceSecret()));
    }

    @Test
    public void signedConfig() throws Exception {
        try (PinholeCollection c = vectorCollection()) {
            assertEquals(7, c.getId());
            assertEquals(1024, c.getK());
            assertEquals(Mechanism.PGR, c.getMechanism());
            assertEquals(4.0, c.getEpsilon(), 0);
            assertEquals(58, c.reportBytes(false));
            assertEquals(106, c.reportBytes(true));
        }
        byte[] bad = Pinhole.hexDecode(SIGNED);
        bad[100] ^= 1;
        try {
            PinholeCollection.fromSignedConfig(bad, Pinhole.hexDecode(SIGNING_KEY));
            fail("altered signature accepted");
        } catch (PinholeException e) {
            assertEquals(PinholeException.ESIGNATURE, e.getCode());
        }
        try {
            PinholeCollection.fromSignedConfig(Pinhole.hexDecode(SIGNED), new byte[31]);
            fail("short key accepted");
        } catch (IllegalArgumentException e) {
            // the key's length is checked before the library is called
        }
    }

    @Test
    public void reports() throws Exception {
        try (PinholeCollection c = vectorCollection(); PinholeClient cl = new PinholeClient()) {
            byte[] r = cl.report(c, 1023);
            assertEquals(58, r.length);
            assertEquals(1, r[0]); // version
            assertEquals(7, r[8]); // collection id, little-endian
            assertEquals(106, cl.reportSealed(c, 5, Pinhole.hexDecode(SEAL_KEY)).length);
            try {
                cl.report(c, 1024);
                fail("value k accepted");
            } catch (PinholeException e) {
                assertEquals(PinholeException.ERANGE, e.getCode());
            }
            try {
                cl.report(c, 3, 0, true);
                fail("memoized without a secret");
            } catch (PinholeException e) {
                assertEquals(PinholeException.EINVAL, e.getCode());
            }
        }
        for (Mechanism m : Mechanism.values()) {
            try (PinholeCollection c = PinholeCollection.local(m, 64, 2.0);
                    PinholeClient cl = new PinholeClient(null, Pinhole.newDeviceSecret())) {
                assertEquals(m, c.getMechanism());
                byte[] a = cl.report(c, 9, 1700000000L, true);
                byte[] b = cl.report(c, 9, 1700000100L, true);
                assertEquals(c.reportBytes(false), a.length);
                // no instantaneous step at epsilon_permanent = epsilon: the payload repeats
                assertArrayEquals(Arrays.copyOfRange(a, 56, a.length),
                        Arrays.copyOfRange(b, 56, b.length));
            }
        }
    }

    static final class MemoryStore implements BudgetStore {
        final Map<Long, Double> spent = new HashMap<>();
        boolean failing;

        @Override
        public double load(long period) throws IOException {
            if (failing) {
                throw new IOException("disk gone");
            }
            return spent.getOrDefault(period, 0.0);
        }

        @Override
        public void store(long period, double value) {
            spent.put(period, value);
        }
    }

    @Test
    public void budget() throws Exception {
        MemoryStore store = new MemoryStore();
        long day = 20000L * 86400;
        try (PinholeCollection c = vectorCollection();
                PinholeClient cl = new PinholeClient(new Policy(4, 10, 86400, store), null)) {
            cl.report(c, 1, day + 1, false);
            cl.report(c, 1, day + 2, false);
            try {
                cl.report(c, 1, day + 3, false);
                fail("over the budget");
            } catch (PinholeException e) {
                assertTrue(e.isPolicyRefusal());
            }
            assertEquals(8.0, store.spent.get(20000L), 0);
            store.failing = true;
            try {
                cl.report(c, 1, day + 86400, false);
                fail("the store's exception was swallowed");
            } catch (Exception e) { // javac does not know the native call throws it
                assertSame(IOException.class, e.getClass());
                assertEquals("disk gone", e.getMessage());
            }
        }
        try (PinholeCollection c = vectorCollection();
                PinholeClient cl = new PinholeClient(Policy.cap(2), null)) {
            cl.report(c, 1);
            fail("epsilon 4 over the cap 2");
        } catch (PinholeException e) {
            assertTrue(e.isPolicyRefusal());
        }
    }

    @Test
    public void outboxAndUploader() throws Exception {
        final List<byte[]> bodies = new ArrayList<>();
        final int[] answers = {503, 200};
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/collections/7/reports", exchange -> {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            try (InputStream in = exchange.getRequestBody()) {
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) > 0;) {
                    body.write(buf, 0, n);
                }
            }
            synchronized (bodies) {
                bodies.add(body.toByteArray());
            }
            boolean ok = "application/octet-stream".equals(
                    exchange.getRequestHeaders().getFirst("Content-Type"));
            int status = ok ? answers[Math.min(bodies.size() - 1, answers.length - 1)] : 415;
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        try (PinholeCollection c = vectorCollection(); PinholeClient cl = new PinholeClient();
                Outbox ob = new Outbox(c, true, 65536)) {
            byte[] key = Pinhole.hexDecode(SEAL_KEY);
            for (int i = 0; i < 10; i++) {
                ob.add(cl.reportSealed(c, i, key), 1700000000L);
            }
            assertEquals(10, ob.getPending());
            URL base = new URL("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            HttpUploader up = new HttpUploader(base, 7, null);
            assertEquals(0, up.flush(ob)); // 503: kept
            assertEquals(10, ob.getPending());
            assertEquals(1, up.flush(ob)); // the same bytes again, 200
            assertEquals(0, ob.getPending());
            assertNull(ob.next());
            assertEquals(2, bodies.size());
            assertArrayEquals(bodies.get(0), bodies.get(1));
            assertEquals(8 + 10 * (4 + 106), bodies.get(0).length);
            assertEquals(1, bodies.get(0)[1]); // sealed batch
        } finally {
            server.stop(0);
        }
        assertTrue(Outbox.shouldRetry(0));
        assertTrue(Outbox.shouldRetry(429));
        assertFalse(Outbox.shouldRetry(200));
        assertFalse(Outbox.shouldRetry(422));
        HttpUploader nowhere = new HttpUploader(new URL("http://127.0.0.1:1"), 7, "t");
        assertEquals(0, nowhere.post(new byte[] {1}));
    }

    @Test
    public void labels() throws Exception {
        try (PinholeCollection c = PinholeCollection.fromSignedConfig(
                     Pinhole.hexDecode(LABELS_SIGNED), Pinhole.hexDecode(SIGNING_KEY));
                PinholeLabels labels = PinholeLabels.verify(c, Pinhole.hexDecode(LABELS_LIST));
                PinholeClient cl = new PinholeClient()) {
            assertTrue(c.hasLabels());
            assertEquals(4, labels.getCount());
            assertEquals(1, labels.indexOf("beta"));
            assertEquals(2, labels.indexOf("\u00e9t\u00e9"));
            assertEquals(3, labels.indexOf("not a label")); // the "other" item
            assertEquals("alpha", labels.get(0));
            assertEquals(c.reportBytes(false), cl.report(c, labels.indexOf("alpha")).length);
            byte[] altered = Pinhole.hexDecode(LABELS_LIST);
            altered[12] ^= 1;
            try {
                PinholeLabels.verify(c, altered);
                fail("altered list accepted");
            } catch (PinholeException e) {
                assertEquals(PinholeException.ESIGNATURE, e.getCode());
            }
        }
        try (PinholeCollection plain = vectorCollection()) {
            assertFalse(plain.hasLabels());
        }
    }

    @Test
    public void closedObjects() throws Exception {
        PinholeCollection c = PinholeCollection.local(Mechanism.GRR, 4, 1.0);
        c.close();
        c.close(); // twice is harmless
        try {
            c.getK();
            fail("closed collection used");
        } catch (IllegalStateException e) {
            assertSame(IllegalStateException.class, e.getClass());
        }
    }
}
