package schema

import _ "embed"

// JSONSchema is plan.schema.json: a JSON Schema (draft 2020-12) of the plan
// file for editors (yaml-language-server) and other tools. It checks shape,
// types, enums and duration syntax; cross-references (mix and scenario
// names) and the rest of the rules are checked by [Parse] only.
//
//go:embed plan.schema.json
var JSONSchema []byte
