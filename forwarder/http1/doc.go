// Package http1 parses HTTP/1.x request and response heads and frames
// their bodies (RFC 9112), strictly: whatever two HTTP implementations
// could read differently is refused, so that roost and any proxy in front
// of it or backend behind it cannot disagree about where a message ends.
//
// It owns the HTTP/1.x framing rules: ParseRequestHead (or Head.Parse,
// which reuses its field slice, or ReadHead over a bufio.Reader) splits a
// head into method, target (byte-exact), version and raw field lines in
// order, and says how the body is framed: none, Content-Length, or
// chunked, read with a ChunkedReader. Head.Parse and ReadHead allocate
// nothing (the head's slices alias the caller's buffer), and nothing here
// starts a goroutine. It decides no status, writes no page, and proxies
// nothing: package forwarder maps its errors to responses (400 and closing
// the connection for every Error, or 431 and 505 where it wants to be
// precise).
//
// On the backend side, ParseResponseHead (or ResponseHead.Parse, or
// ReadResponseHead over a bufio.Reader, both allocating nothing) splits a
// response head into version, status, reason phrase and raw field lines
// in order, and, given the request's method, says how the body is framed
// (RFC 9112 §6.3): none for a response to HEAD, a 1xx, 204 or 304, and a
// 2xx to CONNECT; else chunked, Content-Length, or UntilClose when the
// response has neither, which the caller must read to the connection's
// end and so cannot reuse the connection. Whatever it refuses means the
// backend connection is discarded; what the client gets (a 502) is the
// caller's decision. A response head is refused for:
//   - a status line that is not HTTP-version SP 3DIGIT [SP reason] with
//     exactly single spaces; a version other than HTTP/1.0 or HTTP/1.1; a
//     status outside 100 to 599; a reason phrase holding a control
//     character other than HTAB, or DEL (obs-text is allowed);
//   - any breach of the line and field rules below, and the size limits;
//   - Content-Length or Transfer-Encoding breaking the rules below (on
//     HTTP/1.0, other than exactly chunked, more than one, both), even on
//     a response that has no body: a backend that sends them wrong is not
//     trusted for the rest of the connection.
//
// A request head is refused, with an Error saying why, for:
//   - a request line that is not method SP target SP version with exactly
//     single spaces; a method that is not a token; a version other than
//     HTTP/1.0 or HTTP/1.1; a target holding a control character, a space
//     or DEL, or not in one of the four forms of RFC 9112 §3.2 (asterisk
//     form for OPTIONS only, authority form for CONNECT only);
//   - any line ending in a bare LF instead of CRLF, and a CR anywhere but
//     before LF (bare CR);
//   - obs-fold, and whitespace before the first field line;
//   - a field name that is empty or not a token, or followed by whitespace
//     before its colon; a value holding a control character other than
//     HTAB, or DEL (obs-text, bytes 0x80 to 0xFF, is allowed);
//   - a head over Limits.MaxHeadBytes (64 KiB by default) or with more
//     than Limits.MaxFields fields (100 by default);
//   - Content-Length that is not 1*DIGIT fitting an int64 ("+5", "0x5",
//     "5, 6", empty are refused), and more than one Content-Length field;
//   - Transfer-Encoding with Content-Length (in either order), on
//     HTTP/1.0, other than exactly "chunked" (ignoring case), or in more
//     than one field line;
//   - on HTTP/1.1, no Host or more than one; on either version, more than
//     one Host, or a Host holding a byte outside the URI authority's
//     characters (as net/http's server checks).
//
// Decisions where the RFCs leave a choice:
//   - Bare LF is refused, though RFC 9112 §2.2 lets a recipient accept it
//     and nginx and net/http do: with one line terminator, no intermediary
//     can see a line end where roost does not. Only hand-typed requests
//     (nc without -C) need it.
//   - Duplicate Content-Length is refused even when the values are equal,
//     as nginx does, though RFC 9110 §8.6 lets a recipient accept
//     identical values: no correct client sends two.
//   - HTAB is optional whitespace (RFC 9110 §5.6.3), around values and
//     around chunk extensions: "Transfer-Encoding:\tchunked" is chunked.
//   - A status line without the SP after the status ("HTTP/1.1 200") is
//     accepted, as net/http does: it cannot be read two ways. Statuses
//     600 to 999, which net/http accepts, are refused.
//   - Transfer-Encoding on an HTTP/1.0 response is refused: net/http
//     ignores it and reads to the close, others read chunks. A
//     Content-Length on a response without a body (a 304's, or a HEAD's
//     answer) is checked but frames nothing, as RFC 9110 §8.6 allows.
//   - Empty lines before the request line are refused (RFC 9112 §2.2 says
//     a server SHOULD ignore at least one): a client that sends a CRLF
//     after a body has miscounted it.
//   - The target's characters are checked only for framing (no CTL, SP or
//     DEL): its URL syntax, percent-encoding included, is left to the
//     request filter and the backend, so roost accepts targets that
//     net/http's url.ParseRequestURI refuses, and forwards them as sent.
//
// A chunked body is refused for a chunk size that is not 1 to 16 hex
// digits or overflows an int64; anything after the size but well-formed
// extensions (";" name ["=" token or quoted-string], with optional
// whitespace), including trailing whitespace; extensions of one line over
// Limits.MaxChunkExt (1 KiB by default); chunk data not followed by CRLF;
// a bare LF; and a trailer section breaking the field rules above, over
// Limits.MaxTrailerBytes (16 KiB) or Limits.MaxFields. The trailer fields
// are returned after io.EOF, Content-Length, Transfer-Encoding and Trailer
// included (they frame nothing there, as the body has ended): which of
// them to forward is the caller's choice, and roost forwards none of
// those three.
//
// FuzzDifferential holds the package to net/http's http.ReadRequest:
// whatever this package accepts, net/http accepts and reads the same way
// (method, target, version, fields, body, and where the next request
// starts), except for the target syntax above and CONNECT targets.
// FuzzResponseDifferential holds response heads to http.ReadResponse the
// same way (version, status, reason, fields, body and what follows it),
// except for a 2xx answering CONNECT: roost frames no body, the tunnel
// starting at once, while net/http reads a body as for any 2xx.
package http1
