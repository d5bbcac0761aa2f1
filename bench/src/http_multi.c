/* Baseline for the HTTP scenario: N GETs of one URL through one libcurl
 * multi handle with `inflight` transfers at a time, each on a fresh
 * connection (as Triage's http check does), every response required to be a
 * 2xx. The least a libcurl-based HTTP check can do.
 *
 *   bench_http_multi URL COUNT [INFLIGHT]
 * prints: {"count":N,"ok":N,"failed":N,"seconds":S}
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char* data, size_t size, size_t n, void* user) {
  (void)data;
  (void)user;
  return size * n;
}

static void add_transfer(CURLM* multi, const char* url) {
  CURL* e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
  curl_multi_add_handle(multi, e);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL COUNT [INFLIGHT]\n", argv[0]);
    return 2;
  }
  const char* url = argv[1];
  const long count = atol(argv[2]);
  const long inflight = argc > 3 ? atol(argv[3]) : 64;
  if (count < 1 || inflight < 1) {
    fprintf(stderr, "COUNT and INFLIGHT must be positive\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  long started = 0, ok = 0, failed = 0;
  int running = 0;
  const double t0 = now_seconds();
  while (started < count && started < inflight) {
    add_transfer(multi, url);
    ++started;
  }
  while (ok + failed < count) {
    curl_multi_perform(multi, &running);
    CURLMsg* msg;
    int left = 0;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      long code = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
      if (msg->data.result == CURLE_OK && code >= 200 && code < 300)
        ++ok;
      else
        ++failed;
      curl_multi_remove_handle(multi, e);
      curl_easy_cleanup(e);
      if (started < count) {
        add_transfer(multi, url);
        ++started;
      }
    }
    if (ok + failed < count) curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  const double seconds = now_seconds() - t0;
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  printf("{\"count\":%ld,\"ok\":%ld,\"failed\":%ld,\"seconds\":%.6f}\n", count, ok, failed,
         seconds);
  return failed == 0 ? 0 : 1;
}
