package org.pinhole;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;

/**
 * A small uploader on HttpURLConnection (optional: an app may use its own HTTP stack): posts an
 * {@link Outbox}'s batches to /v1/collections/{id}/reports with the documented retry rule. Call
 * {@link #flush(Outbox)} from a background thread (Android: WorkManager) when there is network.
 */
public final class HttpUploader {
    private final URL reportsUrl;
    private final String token;
    private final int timeoutMillis;

    /**
     * @param server the server's base URL, e.g. https://pinhole.example.org
     * @param collectionId the collection's id
     * @param uploaderToken the uploader token, or null when posting is open
     */
    public HttpUploader(URL server, long collectionId, String uploaderToken) throws IOException {
        String base = server.toString().replaceAll("/+$", "");
        this.reportsUrl = new URL(base + "/v1/collections/" + Long.toUnsignedString(collectionId)
                + "/reports");
        this.token = uploaderToken;
        this.timeoutMillis = 30000;
    }

    /** POST one batch; the HTTP status, or 0 when no answer came (network error, timeout). */
    public int post(byte[] body) {
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) reportsUrl.openConnection();
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setConnectTimeout(timeoutMillis);
            c.setReadTimeout(timeoutMillis);
            c.setFixedLengthStreamingMode(body.length);
            c.setRequestProperty("Content-Type", "application/octet-stream");
            if (token != null) {
                c.setRequestProperty("Authorization", "Bearer " + token);
            }
            try (OutputStream out = c.getOutputStream()) {
                out.write(body);
            }
            int status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            if (in != null) {
                try (InputStream drain = in) {
                    byte[] buf = new byte[4096];
                    while (drain.read(buf) >= 0) {
                        // read the answer so the connection can be reused
                    }
                }
            }
            return status;
        } catch (IOException e) {
            return 0;
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }

    /**
     * Post the outbox's batches until it is empty or an answer says to retry later. Returns the
     * number of batches answered for good; {@link Outbox#getPending()} tells what is left.
     */
    public int flush(Outbox outbox) {
        int done = 0;
        byte[] body;
        while ((body = outbox.next()) != null) {
            if (Outbox.shouldRetry(post(body))) {
                break;
            }
            outbox.done();
            done++;
        }
        return done;
    }
}
