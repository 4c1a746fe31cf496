/* JNI glue of the Java binding (org.pinhole): each native method of the Java classes maps to one
 * public libpinhole call; errors become org.pinhole.PinholeException; the budget callbacks call
 * the app's org.pinhole.BudgetStore on the reporting thread. Handles are C pointers in a jlong. */
#include <pinhole/pinhole.h>

#include <jni.h>
#include <stdlib.h>
#include <string.h>

#define JNI_FN(cls, name) Java_org_pinhole_##cls##_##name

static void throw_code(JNIEnv *env, int code)
{
    if ((*env)->ExceptionCheck(env))
        return; /* an exception from the app's callback is already on its way */
    jclass cls = (*env)->FindClass(env, "org/pinhole/PinholeException");
    if (!cls)
        return;
    jmethodID init = (*env)->GetMethodID(env, cls, "<init>", "(ILjava/lang/String;)V");
    jstring msg = (*env)->NewStringUTF(env, pinhole_strerror(code));
    if (init && msg) {
        jobject ex = (*env)->NewObject(env, cls, init, (jint)code, msg);
        if (ex)
            (*env)->Throw(env, (jthrowable)ex);
    }
}

static void throw_state(JNIEnv *env, const char *what)
{
    jclass cls = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
    if (cls)
        (*env)->ThrowNew(env, cls, what);
}

/* A Java byte[] copied into a C buffer of exactly `want` bytes (0: any length, *len receives it);
 * NULL with an exception pending if it cannot be. Free with free(). */
static uint8_t *copy_bytes(JNIEnv *env, jbyteArray a, size_t want, size_t *len, const char *what)
{
    if (!a) {
        throw_state(env, what);
        return NULL;
    }
    const jsize n = (*env)->GetArrayLength(env, a);
    if (want && (size_t)n != want) {
        throw_state(env, what);
        return NULL;
    }
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b) {
        throw_code(env, PINHOLE_ENOMEM);
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *)b);
    if (len)
        *len = (size_t)n;
    return b;
}

static jbyteArray new_bytes(JNIEnv *env, const uint8_t *b, size_t n)
{
    jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
    if (a)
        (*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte *)b);
    return a;
}

/* ---- Pinhole ---- */

JNIEXPORT jint JNICALL JNI_FN(Pinhole, nativeInit)(JNIEnv *env, jclass cls)
{
    (void)env, (void)cls;
    return pinhole_init();
}

JNIEXPORT jstring JNICALL JNI_FN(Pinhole, version)(JNIEnv *env, jclass cls)
{
    (void)cls;
    return (*env)->NewStringUTF(env, pinhole_version_string());
}

JNIEXPORT jbyteArray JNICALL JNI_FN(Pinhole, newDeviceSecret)(JNIEnv *env, jclass cls)
{
    (void)cls;
    uint8_t s[PINHOLE_DEVICE_SECRETBYTES];
    pinhole_device_secret_generate(s);
    jbyteArray a = new_bytes(env, s, sizeof s);
    memset(s, 0, sizeof s);
    return a;
}

JNIEXPORT jbyteArray JNICALL JNI_FN(Pinhole, hexDecode)(JNIEnv *env, jclass cls, jstring hex)
{
    (void)cls;
    if (!hex) {
        throw_state(env, "hex is null");
        return NULL;
    }
    const char *s = (*env)->GetStringUTFChars(env, hex, NULL);
    if (!s)
        return NULL;
    const size_t cap = strlen(s) / 2;
    uint8_t *b = malloc(cap ? cap : 1);
    size_t n = 0;
    int rc = b ? pinhole_hex_decode(s, b, cap, &n) : PINHOLE_ENOMEM;
    (*env)->ReleaseStringUTFChars(env, hex, s);
    jbyteArray a = NULL;
    if (rc == PINHOLE_OK)
        a = new_bytes(env, b, n);
    else
        throw_code(env, rc);
    free(b);
    return a;
}

JNIEXPORT jstring JNICALL JNI_FN(Pinhole, hexEncode)(JNIEnv *env, jclass cls, jbyteArray bytes)
{
    (void)cls;
    size_t n = 0;
    uint8_t *b = copy_bytes(env, bytes, 0, &n, "bytes is null");
    if (!b)
        return NULL;
    char *s = malloc(2 * n + 1);
    jstring out = NULL;
    if (s && pinhole_hex_encode(b, n, s, 2 * n + 1) == PINHOLE_OK)
        out = (*env)->NewStringUTF(env, s);
    else
        throw_code(env, PINHOLE_ENOMEM);
    free(s);
    free(b);
    return out;
}

JNIEXPORT jboolean JNICALL JNI_FN(Outbox, nativeShouldRetry)(JNIEnv *env, jclass cls, jint status)
{
    (void)env, (void)cls;
    return pinhole_http_should_retry(status) ? JNI_TRUE : JNI_FALSE;
}

/* ---- PinholeCollection ---- */

JNIEXPORT jlong JNICALL JNI_FN(PinholeCollection, nativeSigned)(JNIEnv *env, jclass cls,
                                                                jbyteArray config, jbyteArray key)
{
    (void)cls;
    size_t n = 0;
    uint8_t *c = copy_bytes(env, config, 0, &n, "signed config is null");
    uint8_t *k = c ? copy_bytes(env, key, PINHOLE_CONFIG_PUBLICKEYBYTES, NULL,
                                "the signing key must have 32 bytes")
                   : NULL;
    pinhole_collection *col = NULL;
    if (c && k) {
        int rc = pinhole_collection_new_signed(&col, c, n, k);
        if (rc != PINHOLE_OK)
            throw_code(env, rc);
    }
    free(c);
    free(k);
    return (jlong)(intptr_t)col;
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeCollection, nativeParams)(JNIEnv *env, jclass cls,
                                                                jint mechanism, jlong k,
                                                                jdouble epsilon)
{
    (void)cls;
    pinhole_collection *col = NULL;
    int rc = k < 0 ? PINHOLE_EINVAL
                   : pinhole_collection_new_params(&col, (pinhole_mechanism_id)mechanism,
                                                   (uint64_t)k, epsilon);
    if (rc != PINHOLE_OK)
        throw_code(env, rc);
    return (jlong)(intptr_t)col;
}

#define COL(h) ((const pinhole_collection *)(intptr_t)(h))

JNIEXPORT void JNICALL JNI_FN(PinholeCollection, nativeFree)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    pinhole_collection_free((pinhole_collection *)(intptr_t)h);
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeCollection, nativeId)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    return (jlong)pinhole_collection_id(COL(h));
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeCollection, nativeK)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    return (jlong)pinhole_collection_k(COL(h));
}

JNIEXPORT jint JNICALL JNI_FN(PinholeCollection, nativeMechanism)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    return (jint)pinhole_collection_mechanism(COL(h));
}

JNIEXPORT jdouble JNICALL JNI_FN(PinholeCollection, nativeEpsilon)(JNIEnv *env, jclass cls, jlong h,
                                                                   jboolean permanent)
{
    (void)env, (void)cls;
    return permanent ? pinhole_collection_epsilon_permanent(COL(h))
                     : pinhole_collection_epsilon(COL(h));
}

JNIEXPORT jint JNICALL JNI_FN(PinholeCollection, nativeReportBytes)(JNIEnv *env, jclass cls,
                                                                    jlong h, jboolean sealed)
{
    (void)env, (void)cls;
    return (jint)(sealed ? pinhole_collection_sealedbytes(COL(h))
                         : pinhole_collection_reportbytes(COL(h)));
}

/* ---- PinholeClient ---- */

typedef struct jni_client {
    pinhole_client *cl;
    JavaVM *vm;
    jobject store; /* global reference to the app's BudgetStore, or NULL */
    jmethodID load_id, store_id;
} jni_client;

static JNIEnv *callback_env(const jni_client *j)
{
    JNIEnv *env = NULL;
    /* the callback runs inside pinhole_client_report, called from Java on this thread */
    return (*j->vm)->GetEnv(j->vm, (void **)&env, JNI_VERSION_1_6) == JNI_OK ? env : NULL;
}

static int budget_load(void *ctx, uint64_t period, double *spent)
{
    const jni_client *j = ctx;
    JNIEnv *env = callback_env(j);
    if (!env)
        return PINHOLE_EIO;
    const jdouble v = (*env)->CallDoubleMethod(env, j->store, j->load_id, (jlong)period);
    if ((*env)->ExceptionCheck(env))
        return PINHOLE_EIO; /* the app's exception is rethrown to its caller */
    *spent = v;
    return PINHOLE_OK;
}

static int budget_store(void *ctx, uint64_t period, double spent)
{
    const jni_client *j = ctx;
    JNIEnv *env = callback_env(j);
    if (!env)
        return PINHOLE_EIO;
    (*env)->CallVoidMethod(env, j->store, j->store_id, (jlong)period, (jdouble)spent);
    return (*env)->ExceptionCheck(env) ? PINHOLE_EIO : PINHOLE_OK;
}

static void free_jni_client(JNIEnv *env, jni_client *j)
{
    if (!j)
        return;
    pinhole_client_free(j->cl);
    if (j->store)
        (*env)->DeleteGlobalRef(env, j->store);
    free(j);
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeClient, nativeNew)(JNIEnv *env, jclass cls,
                                                         jdouble max_epsilon,
                                                         jdouble budget_epsilon, jlong period,
                                                         jobject store, jbyteArray secret)
{
    (void)cls;
    jni_client *j = calloc(1, sizeof *j);
    if (!j || (*env)->GetJavaVM(env, &j->vm) != 0) {
        free(j);
        throw_code(env, PINHOLE_ENOMEM);
        return 0;
    }
    pinhole_policy p = {.max_epsilon = max_epsilon,
                        .budget_epsilon = budget_epsilon,
                        .budget_period = period > 0 ? (uint64_t)period : 0};
    if (store) {
        jclass sc = (*env)->GetObjectClass(env, store);
        j->load_id = (*env)->GetMethodID(env, sc, "load", "(J)D");
        j->store_id = (*env)->GetMethodID(env, sc, "store", "(JD)V");
        j->store = (*env)->NewGlobalRef(env, store);
        if (!j->load_id || !j->store_id || !j->store) {
            free_jni_client(env, j);
            return 0; /* NoSuchMethodError or OutOfMemoryError pending */
        }
        p.load = budget_load;
        p.store = budget_store;
        p.ctx = j;
    }
    uint8_t *s = NULL;
    if (secret) {
        s = copy_bytes(env, secret, PINHOLE_DEVICE_SECRETBYTES, NULL,
                       "the device secret must have 32 bytes");
        if (!s) {
            free_jni_client(env, j);
            return 0;
        }
    }
    int rc = period < 0 ? PINHOLE_EINVAL : pinhole_client_new(&j->cl, &p, s);
    if (s) {
        memset(s, 0, PINHOLE_DEVICE_SECRETBYTES);
        free(s);
    }
    if (rc != PINHOLE_OK) {
        free_jni_client(env, j);
        throw_code(env, rc);
        return 0;
    }
    return (jlong)(intptr_t)j;
}

JNIEXPORT void JNICALL JNI_FN(PinholeClient, nativeFree)(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    free_jni_client(env, (jni_client *)(intptr_t)h);
}

JNIEXPORT jbyteArray JNICALL JNI_FN(PinholeClient, nativeReport)(JNIEnv *env, jclass cls, jlong h,
                                                                 jlong col_h, jlong value,
                                                                 jlong unix_seconds, jint flags,
                                                                 jbyteArray seal_key)
{
    (void)cls;
    const jni_client *j = (const jni_client *)(intptr_t)h;
    const pinhole_collection *col = COL(col_h);
    if (value < 0 || unix_seconds < 0) {
        throw_code(env, value < 0 ? PINHOLE_ERANGE : PINHOLE_EINVAL);
        return NULL;
    }
    uint8_t *key = NULL;
    if (seal_key) {
        key = copy_bytes(env, seal_key, PINHOLE_SEAL_PUBLICKEYBYTES, NULL,
                         "the seal key must have 32 bytes");
        if (!key)
            return NULL;
    }
    const size_t cap = pinhole_collection_sealedbytes(col);
    uint8_t *out = malloc(cap);
    size_t n = 0;
    int rc = !out ? PINHOLE_ENOMEM
             : key
                 ? pinhole_client_report_sealed(j->cl, col, (uint64_t)value, (uint64_t)unix_seconds,
                                                (unsigned)flags, key, out, cap, &n)
                 : pinhole_client_report(j->cl, col, (uint64_t)value, (uint64_t)unix_seconds,
                                         (unsigned)flags, out, cap, &n);
    jbyteArray a = NULL;
    if (rc == PINHOLE_OK)
        a = new_bytes(env, out, n);
    else
        throw_code(env, rc);
    free(out);
    free(key);
    return a;
}

/* ---- Outbox ---- */

#define OUTBOX(h) ((pinhole_outbox *)(intptr_t)(h))

JNIEXPORT jlong JNICALL JNI_FN(Outbox, nativeNew)(JNIEnv *env, jclass cls, jlong col_h,
                                                  jboolean sealed, jint max_batch_bytes)
{
    (void)cls;
    pinhole_outbox *ob = NULL;
    int rc = max_batch_bytes <= 0
                 ? PINHOLE_EINVAL
                 : pinhole_outbox_new(&ob, COL(col_h), sealed ? PINHOLE_OUTBOX_SEALED : 0,
                                      (size_t)max_batch_bytes);
    if (rc != PINHOLE_OK)
        throw_code(env, rc);
    return (jlong)(intptr_t)ob;
}

JNIEXPORT void JNICALL JNI_FN(Outbox, nativeFree)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    pinhole_outbox_free(OUTBOX(h));
}

JNIEXPORT void JNICALL JNI_FN(Outbox, nativeAdd)(JNIEnv *env, jclass cls, jlong h,
                                                 jbyteArray report, jlong unix_seconds)
{
    (void)cls;
    size_t n = 0;
    uint8_t *r = copy_bytes(env, report, 0, &n, "report is null");
    if (!r)
        return;
    int rc = unix_seconds < 0 ? PINHOLE_EINVAL
                              : pinhole_outbox_add(OUTBOX(h), r, n, (uint64_t)unix_seconds);
    free(r);
    if (rc != PINHOLE_OK)
        throw_code(env, rc);
}

JNIEXPORT jlong JNICALL JNI_FN(Outbox, nativePending)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    return (jlong)pinhole_outbox_pending(OUTBOX(h));
}

JNIEXPORT jbyteArray JNICALL JNI_FN(Outbox, nativeNext)(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    const uint8_t *body;
    size_t len;
    if (!pinhole_outbox_next(OUTBOX(h), &body, &len))
        return NULL;
    return new_bytes(env, body, len);
}

JNIEXPORT void JNICALL JNI_FN(Outbox, nativeDone)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    pinhole_outbox_done(OUTBOX(h));
}

/* ---- PinholeLabels ---- */

#define LABELS(h) ((const pinhole_labels *)(intptr_t)(h))

JNIEXPORT jlong JNICALL JNI_FN(PinholeLabels, nativeNew)(JNIEnv *env, jclass cls, jlong col_h,
                                                         jbyteArray list)
{
    (void)cls;
    size_t n = 0;
    uint8_t *b = copy_bytes(env, list, 0, &n, "list is null");
    if (!b)
        return 0;
    pinhole_labels *lab = NULL;
    int rc = pinhole_labels_new(&lab, COL(col_h), b, n);
    free(b);
    if (rc != PINHOLE_OK)
        throw_code(env, rc);
    return (jlong)(intptr_t)lab;
}

JNIEXPORT void JNICALL JNI_FN(PinholeLabels, nativeFree)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    pinhole_labels_free((pinhole_labels *)(intptr_t)h);
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeLabels, nativeCount)(JNIEnv *env, jclass cls, jlong h)
{
    (void)env, (void)cls;
    return (jlong)pinhole_labels_count(LABELS(h));
}

JNIEXPORT jlong JNICALL JNI_FN(PinholeLabels, nativeIndex)(JNIEnv *env, jclass cls, jlong h,
                                                           jbyteArray label)
{
    (void)cls;
    size_t n = 0;
    uint8_t *b = copy_bytes(env, label, 0, &n, "label is null");
    if (!b)
        return -1;
    uint64_t item = 0;
    int rc = pinhole_labels_index(LABELS(h), (const char *)b, n, &item);
    free(b);
    if (rc != PINHOLE_OK) {
        throw_code(env, rc);
        return -1;
    }
    return (jlong)item;
}

JNIEXPORT jbyteArray JNICALL JNI_FN(PinholeLabels, nativeGet)(JNIEnv *env, jclass cls, jlong h,
                                                              jlong item)
{
    (void)cls;
    const char *l = NULL;
    size_t n = 0;
    int rc = item < 0 ? PINHOLE_ERANGE : pinhole_labels_get(LABELS(h), (uint64_t)item, &l, &n);
    if (rc != PINHOLE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    return new_bytes(env, (const uint8_t *)l, n);
}

JNIEXPORT jboolean JNICALL JNI_FN(PinholeCollection, nativeHasLabels)(JNIEnv *env, jclass cls,
                                                                      jlong h)
{
    (void)env, (void)cls;
    return pinhole_collection_has_labels(COL(h)) ? JNI_TRUE : JNI_FALSE;
}
