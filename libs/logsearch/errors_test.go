package logsearch

import "github.com/elastic/go-elasticsearch/v8/typedapi/types"

var (
	typesErr429 = types.ErrorResponseBase{Status: 429, Error: types.ErrorCause{Type: "es_rejected_execution_exception"}}
	typesErr400 = types.ErrorResponseBase{Status: 400, Error: types.ErrorCause{Type: "parsing_exception"}}
)
