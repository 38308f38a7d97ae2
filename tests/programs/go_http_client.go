// A Go HTTP client (the standard library's, no cgo: a static program that makes its socket
// calls without libc, which the preload agent cannot see): GETs the paths given on one
// keep-alive connection and prints "got N N…", the bytes of each body. Recorded by the kernel
// engine in the truth harness (tests/truth/cases.py, go_http).
// Run as: go_http_client PORT PATH…
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_http_client PORT PATH…")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	var got []string
	for _, path := range os.Args[2:] {
		resp, err := client.Get("http://127.0.0.1:" + os.Args[1] + path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		got = append(got, fmt.Sprint(len(body)))
	}
	client.CloseIdleConnections()
	fmt.Println("got " + strings.Join(got, " "))
}
