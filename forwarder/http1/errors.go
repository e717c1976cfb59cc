package http1

import "errors"

// Error is why a head or a chunked body was refused. Every Error is a
// framing error, after which nothing more is read from the connection: on
// a client's request the caller answers 400 (or 431 for ErrHeadTooLarge
// and ErrTooManyFields, if it wants to be precise); on a backend's
// response, 502, and the backend connection is discarded. Errors are constants, so refusing allocates nothing;
// test for one with errors.Is.
type Error string

func (e Error) Error() string { return "http1: " + string(e) }

// The reasons a head or a chunked body is refused.
const (
	ErrRequestLine      Error = "request line is not method SP target SP HTTP/1.x"
	ErrMethod           Error = "method is not a token"
	ErrTarget           Error = "request target is malformed"
	ErrVersion          Error = "version is neither HTTP/1.0 nor HTTP/1.1"
	ErrBareLF           Error = "line ends in a bare LF, not CRLF"
	ErrBareCR           Error = "bare CR"
	ErrObsFold          Error = "line folding (obs-fold) or whitespace before a field line"
	ErrFieldName        Error = "field name is not a token or has no colon"
	ErrEmptyFieldName   Error = "empty field name"
	ErrSpaceBeforeColon Error = "whitespace between a field name and its colon"
	ErrFieldValue       Error = "control character in a field value"
	ErrHeadTooLarge     Error = "header section over the size limit"
	ErrTooManyFields    Error = "more header fields than the limit"
	ErrContentLength    Error = "Content-Length is not a single decimal number"
	ErrDuplicateCL      Error = "more than one Content-Length"
	ErrCLAndTE          Error = "both Content-Length and Transfer-Encoding"
	ErrTEOnHTTP10       Error = "Transfer-Encoding on an HTTP/1.0 message"
	ErrTECoding         Error = "Transfer-Encoding other than exactly chunked"
	ErrDuplicateTE      Error = "more than one Transfer-Encoding"
	ErrHost             Error = "no Host, more than one Host, or a malformed Host"
	ErrChunkSize        Error = "chunk size is not a hex number, or overflows"
	ErrChunkExt         Error = "malformed chunk extension"
	ErrChunkExtTooLong  Error = "chunk extension over the size limit"
	ErrChunkDataEnd     Error = "chunk data not followed by CRLF"
)

// ErrIncomplete says the bytes end before the header section does: read
// more and parse again. It is not a framing error.
var ErrIncomplete = errors.New("http1: incomplete head")
