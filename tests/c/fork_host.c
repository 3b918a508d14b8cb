/*
 * A C host that forks while another of its threads is inside a file stream call, as a server
 * that forks its workers may. The child must get an error from the stream (the stream's reading
 * thread stayed in the parent), not wait forever for the lock the parent's thread held at the
 * fork. The file is a FIFO fed by this program, so the reading thread is surely inside
 * barter_ffi_file_stream_next_batch when the process forks: the stream waits there for a piece
 * the FIFO has not delivered yet.
 *
 *   fork_host FIFO_PATH JSONL_FILE
 *
 * Prints "child: next_batch STATUS, progress STATUS" and "parent: events COUNT, status STATUS",
 * and exits 0 only if both child calls failed with BARTER_FFI_STATUS_INVALID_ARGUMENT (a child
 * that hangs is ended by an alarm after 30 s) and the parent then read every event of the file.
 * The child says how it fared through a pipe, not its exit status, which valgrind overrides:
 * there the child holds the memory of the parent's threads, which have no thread to free it.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "barter_ffi.h"

static BarterFfiFileStream *stream;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static int reading;
static long events;
static int read_status = -1;

/* Reads the stream to its end, counting events (a batch's MessagePack array length). */
static void *read_all(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    reading = 1;
    pthread_cond_signal(&started);
    pthread_mutex_unlock(&lock);
    for (;;) {
        BarterFfiBuffer batch = {NULL, 0, 0};
        read_status = barter_ffi_file_stream_next_batch(stream, 1000, &batch, NULL);
        if (read_status != BARTER_FFI_STATUS_OK) return NULL;
        const uint8_t *bytes = batch.data;
        long count = (bytes[0] & 0xF0) == 0x90 ? bytes[0] & 0x0F : bytes[0] == 0xDC ? bytes[1] << 8 | bytes[2] : -1;
        barter_ffi_buffer_free(&batch);
        if (count <= 0) return NULL;
        events += count;
    }
}

static char *read_file(const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    char *text = malloc(1 << 20);
    *len = text ? fread(text, 1, 1 << 20, file) : 0;
    fclose(file);
    return text;
}

static int write_all(int fd, const char *bytes, size_t len) {
    while (len > 0) {
        ssize_t written = write(fd, bytes, len);
        if (written <= 0) return -1;
        bytes += written;
        len -= (size_t)written;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fork_host FIFO_PATH JSONL_FILE\n");
        return 2;
    }
    size_t len = 0;
    char *text = read_file(argv[2], &len);
    const char *first_newline = text ? memchr(text, '\n', len) : NULL;
    if (first_newline == NULL || mkfifo(argv[1], 0600) != 0) {
        perror("fork_host: reading the file or making the FIFO");
        return 2;
    }
    size_t first_line = (size_t)(first_newline - text) + 1;
    /* Read-write: the stream's read-only open then finds a writer and does not block. */
    int writer = open(argv[1], O_RDWR);
    BarterFfiError error = {BARTER_FFI_STATUS_OK, 0, NULL};
    if (writer < 0 || write_all(writer, text, first_line) != 0 ||
        barter_ffi_file_stream_open(argv[1], NULL, &stream, &error) != BARTER_FFI_STATUS_OK) {
        fprintf(stderr, "fork_host: opening the stream: %s\n", error.message ? error.message : "(no message)");
        return 2;
    }
    pthread_t reader;
    pthread_create(&reader, NULL, read_all, NULL);
    pthread_mutex_lock(&lock);
    while (!reading) pthread_cond_wait(&started, &lock);
    pthread_mutex_unlock(&lock);
    struct timespec settle = {0, 300 * 1000 * 1000}; /* inside the call, waiting for the piece */
    nanosleep(&settle, NULL);

    int verdict[2];
    if (pipe(verdict) != 0) {
        perror("fork_host: pipe");
        return 2;
    }
    pid_t child = fork();
    if (child == 0) {
        alarm(30);
        BarterFfiBuffer batch = {NULL, 0, 0};
        uint64_t done = 0, total = 0;
        int next = barter_ffi_file_stream_next_batch(stream, 1000, &batch, &error);
        int progress = barter_ffi_file_stream_progress(stream, &done, &total, &error);
        barter_ffi_file_stream_free(stream); /* left as it is: the parent's thread was using it */
        printf("child: next_batch %d, progress %d\n", next, progress);
        fflush(stdout);
        int ok = next == BARTER_FFI_STATUS_INVALID_ARGUMENT && progress == BARTER_FFI_STATUS_INVALID_ARGUMENT;
        _exit(write(verdict[1], ok ? "y" : "n", 1) == 1 ? 0 : 1);
    }
    close(verdict[1]);
    int child_status = 0;
    waitpid(child, &child_status, 0);
    char said = 0;
    int child_ok = read(verdict[0], &said, 1) == 1 && said == 'y';
    if (WIFSIGNALED(child_status)) printf("child: ended by signal %d\n", WTERMSIG(child_status));

    /* The rest of the file, then its end: the parent's reading thread reads on. */
    write_all(writer, text + first_line, len - first_line);
    close(writer);
    pthread_join(reader, NULL);
    barter_ffi_file_stream_free(stream);
    barter_ffi_error_free(&error);
    unlink(argv[1]);
    free(text);
    printf("parent: events %ld, status %d\n", events, read_status);
    return child_ok && read_status == BARTER_FFI_STATUS_OK ? 0 : 1;
}
