/* whttp PORT PATH: fetches http://127.0.0.1:PORT/PATH with WinHTTP (a Windows component no one
 * here wrote, which makes its own Winsock calls) and prints the status code and body size. */
#include <windows.h>
#include <winhttp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  wchar_t path[256];
  MultiByteToWideChar(CP_ACP, 0, argv[2], -1, path, 256);
  HINTERNET session = WinHttpOpen(L"wstrace-test/1.0", WINHTTP_ACCESS_TYPE_NO_PROXY,
                                  WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
  if (!session) return 1;
  HINTERNET conn = WinHttpConnect(session, L"127.0.0.1", (INTERNET_PORT)atoi(argv[1]), 0);
  HINTERNET req = conn ? WinHttpOpenRequest(conn, L"GET", path, NULL, WINHTTP_NO_REFERER,
                                            WINHTTP_DEFAULT_ACCEPT_TYPES, 0)
                       : NULL;
  if (!req || !WinHttpSendRequest(req, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA,
                                  0, 0, 0) ||
      !WinHttpReceiveResponse(req, NULL)) {
    printf("request failed %lu\n", GetLastError());
    return 1;
  }
  DWORD status = 0, size = sizeof status;
  WinHttpQueryHeaders(req, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                      WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX);
  DWORD total = 0, got = 0;
  char buf[4096];
  while (WinHttpReadData(req, buf, sizeof buf, &got) && got) total += got;
  printf("status=%lu body=%lu\n", status, total);
  WinHttpCloseHandle(req);
  WinHttpCloseHandle(conn);
  WinHttpCloseHandle(session);
  return 0;
}
