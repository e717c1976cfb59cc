package forwarder

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roosthq/roost/forwarder/http1"
)

// TestConnectionOf: the options and field names of a head's Connection
// fields, however many lines and tokens they take, in any case.
func TestConnectionOf(t *testing.T) {
	for _, n := range []int{1, 8, 9, 30} { // 9 and 30 overflow the tokens kept
		var names []string
		for i := range n {
			names = append(names, fmt.Sprintf("X-Opt-%d", i))
		}
		head := "GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, " + strings.Join(names[:n/2], ", ") +
			"\r\nOther: y\r\nconnection: " + strings.Join(names[n/2:], ",") + " , UPGRADE\r\n\r\n"
		h, _, err := http1.ParseRequestHead([]byte(head), http1.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		c := connectionOf(h.Fields)
		for _, name := range names {
			if !c.lists([]byte(strings.ToLower(name))) {
				t.Errorf("%d tokens: %s not listed", n, name)
			}
		}
		if c.lists([]byte("Other")) || c.lists([]byte("Host")) {
			t.Errorf("%d tokens: a field the Connection fields do not name is listed", n)
		}
		if !c.has("keep-alive") || !c.has("upgrade") || c.has("close") {
			t.Errorf("%d tokens: options keep-alive %v, upgrade %v, close %v; want true, true, false", n, c.has("keep-alive"), c.has("upgrade"), c.has("close"))
		}
		if !keepsAlive(0, &c) || !keepsAlive(1, &c) {
			t.Errorf("%d tokens: keep-alive not kept", n)
		}
	}
}
