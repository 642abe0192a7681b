/*
 * A stand-in for Fluent Bit's Go proxy (src/flb_plugin_proxy.c,
 * src/proxy/go/go.c, v5.1.1): it dlopens an output plugin and calls its
 * exported symbols in Fluent Bit's order, with Fluent Bit's struct layouts.
 *
 * The plugin definition is allocated with the size Fluent Bit < 5.0 gave it
 * (32 bytes, flb_malloc) followed by a canary, to prove the plugin writes
 * nothing past it. Flushes run on a pthread with a small stack, as Fluent
 * Bit runs them on a libco coroutine stack.
 *
 * Commands, one per line on standard input; one answer line each:
 *   register
 *   init N key=value;key=value...      answer: init N = RET
 *   flush N FILE                        answer: flush N = RET
 *   flushpar N FILE1 FILE2              two threads, same instance (workers 2)
 *   retry N FILE TRIES MS               flush FILE until FLB_OK, at most TRIES times, MS ms apart (Fluent
 *                                       Bit's scheduler retrying a chunk); answer: retry N = RET after K
 *   flushnull FILE                      FlushCtx with no context
 *   bench N ROUNDS RECORDS FILE...      flush each file in turn, ROUNDS times (RECORDS records per
 *                                       round); answer: bench records=R seconds=S
 *   exit N
 *   unregister
 *   quit
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG 11
#define MAX_INSTANCES 4
#define MAX_PROPS 32
#define PRE_V5_DEF_SIZE 32   /* {int type; int proxy; int flags; char *name; char *description;} */
#define CANARY 0xAB

struct flb_plugin_proxy_def {      /* v5.1.1 layout; only the first 32 bytes exist before 5.0 */
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
    void *config_map;
};

struct flb_output_instance {        /* opaque to the plugin: our properties */
    int nprops;
    char *keys[MAX_PROPS];
    char *values[MAX_PROPS];
};

struct flb_api {
    const char *(*output_get_property)(const char *, struct flb_output_instance *);
    const char *(*input_get_property)(const char *, void *);
    void *(*output_get_cmt_instance)(struct flb_output_instance *);
    void *(*input_get_cmt_instance)(void *);
    void (*log_print)(int, const char *, int, const char *, ...);
    int (*input_log_check)(void *, int);
    int (*output_log_check)(struct flb_output_instance *, int);
    const char *(*custom_get_property)(const char *, void *);
    int (*custom_log_check)(void *, int);
};

struct flb_plugin_proxy {
    struct flb_plugin_proxy_def *def;
    struct flb_api *api;
    void *instance;
    void *dso_handler;
    void *data;
};

struct flb_plugin_proxy_context {
    void *remote_context;
    struct flb_plugin_proxy *proxy;
};

struct flbgo_output_plugin {
    char *name;
    void *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
    int (*cb_init)(struct flbgo_output_plugin *);
    int (*cb_flush)(const void *, size_t, const char *);
    int (*cb_flush_ctx)(void *, const void *, size_t, char *);
    int (*cb_exit)(void);
    int (*cb_exit_ctx)(void *);
};

static const char *get_property(const char *key, struct flb_output_instance *ins)
{
    for (int i = 0; i < ins->nprops; i++) {
        if (strcasecmp(ins->keys[i], key) == 0) {   /* flb_kv_get_key_value: case-insensitive */
            return ins->values[i];
        }
    }
    return NULL;
}

static void *handle;
static struct flb_api api;
static struct flb_plugin_proxy proxy;
static unsigned char *def_mem;
static struct flbgo_output_plugin plugin;
static struct flb_output_instance ins[MAX_INSTANCES];
static struct flb_plugin_proxy_context *ctxs[MAX_INSTANCES];

static void *sym(const char *name, int mandatory)
{
    void *s = dlsym(handle, name);
    if (!s && mandatory) {
        printf("missing symbol %s\n", name);
        fflush(stdout);
        exit(2);
    }
    return s;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("cannot open %s\n", path);
        fflush(stdout);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(*len ? *len : 1);
    if (fread(buf, 1, *len, f) != *len) {
        exit(2);
    }
    fclose(f);
    return buf;
}

struct flush_job {
    void *ctx;
    char *data;
    size_t len;
    int ret;
};

static void *flush_thread(void *arg)
{
    struct flush_job *job = arg;
    char tag[] = "kernel.0";        /* Fluent Bit passes a malloc'ed, NUL-terminated copy */
    if (plugin.cb_flush_ctx) {
        job->ret = plugin.cb_flush_ctx(job->ctx, job->data, job->len, tag);
    } else {
        job->ret = plugin.cb_flush(job->data, job->len, tag);
    }
    if (job->ret < 0 || job->ret > 2) {
        job->ret = 0;                /* anything else is FLB_ERROR */
    }
    return NULL;
}

/* run_flushes runs the jobs concurrently, each on a small stack. */
static void run_flushes(struct flush_job *jobs, int n)
{
    pthread_t th[8];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&th[i], &attr, flush_thread, &jobs[i]) != 0) {
            printf("pthread_create failed\n");
            exit(2);
        }
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_attr_destroy(&attr);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: harness plugin.so < commands\n");
        return 2;
    }
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *cmd = strtok(line, " ");
        if (!cmd) {
            continue;
        }
        if (strcmp(cmd, "register") == 0) {
            handle = dlopen(argv[1], RTLD_LAZY);
            if (!handle) {
                printf("dlopen: %s\n", dlerror());
                return 2;
            }
            api.output_get_property = get_property;
            def_mem = malloc(PRE_V5_DEF_SIZE + 32);
            memset(def_mem, 0, PRE_V5_DEF_SIZE);
            memset(def_mem + PRE_V5_DEF_SIZE, CANARY, 32);
            proxy.def = (struct flb_plugin_proxy_def *)def_mem;
            proxy.api = &api;
            proxy.dso_handler = handle;
            int (*pre_register)(int) = sym("FLBPluginPreRegister", 0);
            if (pre_register && pre_register(0) == -1) {
                printf("register = -1 (pre)\n");
                fflush(stdout);
                continue;
            }
            int (*cb_register)(struct flb_plugin_proxy_def *) = sym("FLBPluginRegister", 1);
            int ret = cb_register(proxy.def);
            int intact = 1;
            for (int i = PRE_V5_DEF_SIZE; i < PRE_V5_DEF_SIZE + 32; i++) {
                intact &= def_mem[i] == CANARY;
            }
            plugin.cb_init = sym("FLBPluginInit", 1);
            plugin.cb_flush = sym("FLBPluginFlush", 0);
            plugin.cb_flush_ctx = sym("FLBPluginFlushCtx", 0);
            plugin.cb_exit = sym("FLBPluginExit", 0);
            plugin.cb_exit_ctx = sym("FLBPluginExitCtx", 0);
            plugin.name = proxy.def->name;
            printf("register = %d name=%s type=%d proxy=%d canary=%s\n", ret, proxy.def->name ? proxy.def->name : "(null)",
                   proxy.def->type, proxy.def->proxy, intact ? "intact" : "OVERWRITTEN");
        } else if (strcmp(cmd, "init") == 0) {
            int n = atoi(strtok(NULL, " "));
            char *props = strtok(NULL, "");
            struct flb_output_instance *o = &ins[n];
            memset(o, 0, sizeof *o);
            for (char *kv = props ? strtok(props, ";") : NULL; kv; kv = strtok(NULL, ";")) {
                char *eq = strchr(kv, '=');
                if (!eq) {
                    continue;
                }
                *eq = 0;
                o->keys[o->nprops] = strdup(kv);
                o->values[o->nprops] = eq[1] ? strdup(eq + 1) : NULL;   /* empty values are NULL */
                o->nprops++;
            }
            ctxs[n] = calloc(1, sizeof(struct flb_plugin_proxy_context));
            ctxs[n]->proxy = &proxy;
            proxy.instance = o;
            plugin.api = &api;
            plugin.o_ins = o;
            plugin.context = ctxs[n];
            int ret = plugin.cb_init(&plugin);
            printf("init %d = %d\n", n, ret);
        } else if (strcmp(cmd, "flush") == 0) {
            int n = atoi(strtok(NULL, " "));
            struct flush_job job = {.ctx = ctxs[n]->remote_context};
            job.data = read_file(strtok(NULL, " "), &job.len);
            run_flushes(&job, 1);
            free(job.data);
            printf("flush %d = %d\n", n, job.ret);
        } else if (strcmp(cmd, "retry") == 0) {
            int n = atoi(strtok(NULL, " "));
            struct flush_job job = {.ctx = ctxs[n]->remote_context};
            job.data = read_file(strtok(NULL, " "), &job.len);
            int tries = atoi(strtok(NULL, " "));
            int ms = atoi(strtok(NULL, " "));
            int k = 0;
            for (k = 1; k <= tries; k++) {
                run_flushes(&job, 1);
                if (job.ret == 1) {
                    break;
                }
                struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
            free(job.data);
            printf("retry %d = %d after %d\n", n, job.ret, k > tries ? tries : k);
        } else if (strcmp(cmd, "flushpar") == 0) {
            int n = atoi(strtok(NULL, " "));
            struct flush_job jobs[2];
            for (int i = 0; i < 2; i++) {
                jobs[i].ctx = ctxs[n]->remote_context;
                jobs[i].data = read_file(strtok(NULL, " "), &jobs[i].len);
            }
            run_flushes(jobs, 2);
            printf("flushpar %d = %d %d\n", n, jobs[0].ret, jobs[1].ret);
            free(jobs[0].data);
            free(jobs[1].data);
        } else if (strcmp(cmd, "flushnull") == 0) {
            struct flush_job job = {.ctx = NULL};
            job.data = read_file(strtok(NULL, " "), &job.len);
            run_flushes(&job, 1);
            free(job.data);
            printf("flushnull = %d\n", job.ret);
        } else if (strcmp(cmd, "bench") == 0) {
            int n = atoi(strtok(NULL, " "));
            int rounds = atoi(strtok(NULL, " "));
            long per_round = atol(strtok(NULL, " "));
            char *paths[64];
            int np = 0;
            for (char *p = strtok(NULL, " "); p && np < 64; p = strtok(NULL, " ")) {
                paths[np++] = p;
            }
            struct flush_job jobs[64];
            for (int i = 0; i < np; i++) {
                jobs[i].ctx = ctxs[n]->remote_context;
                jobs[i].data = read_file(paths[i], &jobs[i].len);
            }
            double start = now_seconds();
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < np; i++) {
                    run_flushes(&jobs[i], 1);
                }
            }
            double secs = now_seconds() - start;
            printf("bench records=%ld seconds=%.6f\n", per_round * rounds, secs);
            for (int i = 0; i < np; i++) {
                free(jobs[i].data);
            }
        } else if (strcmp(cmd, "exit") == 0) {
            int n = atoi(strtok(NULL, " "));
            int (*pre_exit)(int) = sym("FLBPluginOutputPreExit", 0);
            if (pre_exit) {
                pre_exit(0);
            }
            int ret = plugin.cb_exit_ctx ? plugin.cb_exit_ctx(ctxs[n]->remote_context) : plugin.cb_exit();
            free(ctxs[n]);
            ctxs[n] = NULL;
            printf("exit %d = %d\n", n, ret);
        } else if (strcmp(cmd, "unregister") == 0) {
            void (*unregister)(struct flb_plugin_proxy_def *) = sym("FLBPluginUnregister", 0);
            if (unregister) {
                unregister(proxy.def);
            }
            free(def_mem);
            dlclose(handle);           /* a no-op for Go .so files (NODELETE), as in Fluent Bit */
            printf("unregister = ok\n");
        } else if (strcmp(cmd, "quit") == 0) {
            printf("bye\n");
            fflush(stdout);
            return 0;
        } else {
            printf("unknown command %s\n", cmd);
        }
        fflush(stdout);
    }
    return 0;
}
