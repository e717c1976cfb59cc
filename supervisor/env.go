package supervisor

import (
	"strconv"
	"strings"

	"github.com/roosthq/roost/config"
)

// buildEnv returns the backend's environment: roost's own (base), then the
// web.config variables, which win, then the variables of the hosting
// contract, which win over both except where ANCM lets the user decide:
//
//   - <aspNetCore>: ASPNETCORE_PORT, ASPNETCORE_APPL_PATH (/),
//     ASPNETCORE_TOKEN, ASPNETCORE_IIS_HTTPAUTH (anonymous;), and
//     ASPNETCORE_ANCM_HTTPS_PORT when there is an https listener and the
//     variable is not set already;
//   - <httpPlatform>: HTTP_PLATFORM_PORT;
//   - both: PORT, unless web.config sets it.
//
// Port placeholders in web.config values are filled with port.
func buildEnv(base []string, p config.Process, port int, token string, httpsPort int) []string {
	e := newEnvList(base)
	webConfigPORT := false
	for _, v := range p.Env {
		e.set(v.Name, v.Value.Fill(port))
		if envKey(v.Name) == envKey("PORT") {
			webConfigPORT = true
		}
	}
	ps := strconv.Itoa(port)
	switch p.Kind {
	case config.HTTPPlatform:
		e.set("HTTP_PLATFORM_PORT", ps)
	default:
		e.set("ASPNETCORE_PORT", ps)
		e.set("ASPNETCORE_APPL_PATH", "/")
		e.set("ASPNETCORE_TOKEN", token)
		e.set("ASPNETCORE_IIS_HTTPAUTH", "anonymous;")
		if httpsPort > 0 && !e.has("ASPNETCORE_ANCM_HTTPS_PORT") {
			e.set("ASPNETCORE_ANCM_HTTPS_PORT", strconv.Itoa(httpsPort))
		}
	}
	if !webConfigPORT {
		e.set("PORT", ps)
	}
	return e.list()
}

// userToken returns the pairing token web.config sets in ASPNETCORE_TOKEN,
// or "" to have a fresh one made for every process.
func userToken(p config.Process) string {
	token := ""
	for _, v := range p.Env {
		if envKey(v.Name) == envKey("ASPNETCORE_TOKEN") {
			token = v.Value.String()
		}
	}
	return token
}

// envList is an environment that keeps its order and replaces variables
// in place; names compare as the system compares them (envKey).
type envList struct {
	kvs   []string
	index map[string]int
}

func newEnvList(base []string) *envList {
	e := &envList{index: make(map[string]int)}
	for _, kv := range base {
		// Search from the second byte: Windows keeps per-drive folders in
		// variables named like "=C:".
		i := strings.IndexByte(kv[min(1, len(kv)):], '=') + 1
		if i <= 0 {
			continue
		}
		e.set(kv[:i], kv[i+1:])
	}
	return e
}

func (e *envList) set(name, value string) {
	kv := name + "=" + value
	if i, ok := e.index[envKey(name)]; ok {
		e.kvs[i] = kv
		return
	}
	e.index[envKey(name)] = len(e.kvs)
	e.kvs = append(e.kvs, kv)
}

func (e *envList) has(name string) bool {
	_, ok := e.index[envKey(name)]
	return ok
}

func (e *envList) list() []string { return e.kvs }
