// Command relay is a loopback SMTP relay for the batch benchmark: it
// prints its address, accepts mail for the test account of
// mailrelay/relaytest (plain SMTP on 127.0.0.1 only, which kuvert accepts
// as smtp+insecure://), and on SIGTERM or SIGINT prints how many messages
// it got. Not shipped.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
)

func main() {
	s, err := relaytest.NewServer(relaytest.Options{Plain: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
	fmt.Println(s.Addr)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, os.Interrupt)
	<-c
	fmt.Fprintf(os.Stderr, "relay: %d messages\n", len(s.Messages()))
	s.Close()
}
