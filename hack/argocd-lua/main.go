// Command argocd-lua runs an Argo CD resource health check written in Lua the
// way Argo CD runs a health customization: on gopher-lua (Lua 5.1), with only
// the base, table and package libraries opened (no string, os or io: Argo CD
// opens the full standard library only when `useOpenLibs` is set), the
// object as the global `obj`, and a one-second time limit.
//
// It reads a JSON array of objects on standard input and prints a JSON array
// with one {"status", "message"} or {"error"} per object. The tests in
// tests/deploy use it to check docs/argocd/*.lua.
//
// Usage: argocd-lua SCRIPT.lua < objects.json
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The health statuses Argo CD accepts; anything else becomes Unknown.
var valid = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-lua SCRIPT.lua < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var objects []map[string]any
	if err := json.Unmarshal(input, &objects); err != nil {
		fmt.Fprintln(os.Stderr, "objects:", err)
		os.Exit(2)
	}
	results := make([]result, 0, len(objects))
	for _, obj := range objects {
		results = append(results, health(string(script), obj))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", " ")
	out.SetEscapeHTML(false)
	if err := out.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func health(script string, obj map[string]any) result {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return result{Error: err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return result{Error: err.Error()}
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return result{Error: fmt.Sprintf("expected a table from the script, not %s", l.Get(-1).Type())}
	}
	status, ok := table.RawGetString("status").(lua.LString)
	if !ok || !valid[string(status)] {
		return result{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	res := result{Status: string(status)}
	switch message := table.RawGetString("message").(type) {
	case lua.LString:
		res.Message = string(message)
	case *lua.LNilType:
	default:
		return result{Error: fmt.Sprintf("message is a %s, not a string", message.Type())}
	}
	return res
}

// toLua converts decoded JSON as Argo CD converts an unstructured object:
// maps become tables, arrays 1-based tables, numbers LNumber, null nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		table := l.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(l, item))
		}
		return table
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(l, item))
		}
		return table
	}
	return lua.LNil
}
