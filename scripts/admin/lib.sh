# shellcheck shell=bash
# Shared by the mwaa-gate admin scripts (sourced, never run): settings, argument helpers,
# JSON building, URL encoding, the signed or plain HTTP call, and how answers are shown.
#
# Settings (environment variables):
#   MWAA_GATE_URL     the API's base URL; default http://127.0.0.1:8000 (`chalice local`).
#                     In AWS: https://<api-id>.execute-api.<region>.amazonaws.com/api
#   MWAA_GATE_AUTH    sigv4 | none; default: sigv4 for https:// URLs, none for http:// ones
#   MWAA_GATE_REGION  region to sign for; default AWS_REGION, AWS_DEFAULT_REGION, the region
#                     in an execute-api host name, or the AWS profile's region
#   credentials       (sigv4 only) as the AWS CLI finds them: AWS_ACCESS_KEY_ID,
#                     AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when set; otherwise the rest
#                     of the standard chain (AWS_PROFILE, ~/.aws/config and credentials, SSO,
#                     credential_process, container and instance roles) through
#                     credentials.py: python3's botocore, else `aws configure export-credentials`
#
#   MWAA_GATE_WAIT_SECONDS  (--wait) seconds between two looks at the environment; default 5
#   MWAA_GATE_WAIT_TIMEOUT  (--wait) give up after this many seconds; default 10800 (3 h)
#
# Output: a short table on a terminal (present.py); pretty JSON with --json or when the output
# is not a terminal (a pipe, a file), so scripts and jq read JSON.
#
# Exit status of every script: 0 success, 1 the API answered an error (its Code and Message
# are shown), 2 bad usage or configuration (nothing was sent), 3 the API could not be reached,
# 4 (--wait) the workflow failed (the failing step and cause are shown), 5 (--wait) it had not
# ended when MWAA_GATE_WAIT_TIMEOUT passed.

set -euo pipefail

MG_EXIT_API=1
MG_EXIT_USAGE=2
MG_EXIT_UNREACHABLE=3
MG_EXIT_WORKFLOW_FAILED=4
MG_EXIT_WAIT_TIMEOUT=5
MG_JSON=''     # --json: JSON even on a terminal
MG_ANSWER=''   # the file holding the last answer of mg_call

mg_program=$(basename "$0")

mg_die() { # exit_status message...
    local status=$1
    shift
    printf '%s: %s\n' "$mg_program" "$*" >&2
    exit "$status"
}

mg_usage_error() { # message
    printf '%s: %s\n' "$mg_program" "$1" >&2
    printf "Try '%s --help'.\n" "$mg_program" >&2
    exit "$MG_EXIT_USAGE"
}

# `mg_wants_help "$@"` is true when -h/--help is among the arguments.
mg_wants_help() {
    local arg
    for arg in "$@"; do
        [[ $arg == -h || $arg == --help ]] && return 0
    done
    return 1
}

# The value of an option that takes one: `mg_option_value --role "$@"` checks that $2 exists.
mg_need_value() { # option remaining_argument_count
    (($2 >= 2)) || mg_usage_error "$1 needs a value"
}

# --- JSON and URL encoding -------------------------------------------------------------------

# A JSON string literal of $1 (backslash, quote and control characters escaped).
mg_json_string() {
    local text=$1 out='' char code i
    local LC_ALL=C
    for ((i = 0; i < ${#text}; i++)); do
        char=${text:i:1}
        case $char in
        '"') out+='\"' ;;
        '\') out+='\\' ;;
        $'\n') out+='\n' ;;
        $'\r') out+='\r' ;;
        $'\t') out+='\t' ;;
        *)
            printf -v code '%d' "'$char"
            if ((code >= 0 && code < 32)) || ((code == 127)); then
                printf -v char '\\u%04x' "$code"
            fi
            out+=$char
            ;;
        esac
    done
    printf '"%s"' "$out"
}

# Percent-encoding of $1 as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (UTF-8 bytes).
# $2 lists further characters kept as they are (e.g. "@" in a path segment).
mg_urlencode() {
    local text=$1 keep=${2:-} out='' char i
    local LC_ALL=C
    for ((i = 0; i < ${#text}; i++)); do
        char=${text:i:1}
        if [[ $char == [A-Za-z0-9._~-] ]] || [[ -n $keep && $keep == *"$char"* ]]; then
            out+=$char
        else
            printf -v char '%%%02X' "'$char"
            out+=$char
        fi
    done
    printf '%s' "$out"
}

# A query string from name=value pairs, values encoded and pairs sorted by name then value,
# since curl 7.88 signs the query as given and SigV4 wants it sorted.
mg_query() { # name=value...
    local pair pairs=()
    for pair in "$@"; do
        pairs+=("$(mg_urlencode "${pair%%=*}")=$(mg_urlencode "${pair#*=}")")
    done
    ((${#pairs[@]})) || return 0
    printf '?'
    printf '%s\n' "${pairs[@]}" | LC_ALL=C sort -t '=' -k1,1 -k2 | paste -sd '&' -
}

# --- showing answers -------------------------------------------------------------------------

mg_wants_json() {
    [[ -n $MG_JSON || ! -t 1 ]]
}

# Show the last answer: a table of KIND on a terminal, else pretty JSON.
mg_show() { # kind
    [[ -s $MG_ANSWER ]] || return 0
    if ! mg_wants_json && command -v python3 >/dev/null 2>&1 &&
        python3 "$MG_LIB_DIR/present.py" table "$1" <"$MG_ANSWER"; then
        return 0
    fi
    mg_pretty "$MG_ANSWER"
}

mg_pretty() { # file
    if command -v jq >/dev/null 2>&1; then
        jq . "$1" 2>/dev/null || cat "$1"
    else
        python3 -m json.tool "$1" 2>/dev/null || cat "$1"
    fi
}

# "Code: Message" of an error body {"Code","Message"} (API Gateway's own errors carry
# {"message"}); the raw text when it is not that JSON.
mg_error_text() { # file
    local text
    if command -v jq >/dev/null 2>&1; then
        text=$(jq -r 'if type == "object" and (.Code or .Message or .message) then
                        [(.Code // empty), (.Message // .message // empty)] | join(": ")
                      else empty end' "$1" 2>/dev/null) || text=''
    else
        text=$(python3 -c '
import json, sys
try:
    body = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(0)
if isinstance(body, dict):
    parts = [body.get("Code"), body.get("Message") or body.get("message")]
    print(": ".join(str(p) for p in parts if p))
' "$1" 2>/dev/null) || text=''
    fi
    if [[ -z $text ]]; then
        text=$(head -c 2000 "$1")
    fi
    printf '%s' "$text"
}

# --- settings: read and checked once, in the script's own shell ----------------------------
# Every configuration error stops the script here, before any request, with exit 2. (Never
# check a setting inside `$(...)`: a subshell's exit would not stop the script.)

MG_CONFIGURED=''
MG_URL='' MG_AUTH='' MG_REGION=''
MG_KEY_ID='' MG_SECRET_KEY='' MG_SESSION_TOKEN='' MG_PROFILE_REGION=''

mg_configure() {
    [[ -z $MG_CONFIGURED ]] || return 0
    MG_URL=${MWAA_GATE_URL:-http://127.0.0.1:8000}
    MG_URL=${MG_URL%/}
    # scheme://host[:port][/path]: no credentials, query, fragment, spaces or control characters
    [[ $MG_URL =~ ^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$ ]] ||
        mg_die "$MG_EXIT_USAGE" "MWAA_GATE_URL must be http(s)://host[:port][/path]" \
            "(got '$(mg_printable "$MG_URL")')"
    MG_AUTH=${MWAA_GATE_AUTH:-}
    if [[ -z $MG_AUTH ]]; then
        case $MG_URL in
        https://*) MG_AUTH=sigv4 ;;
        *) MG_AUTH=none ;;
        esac
    fi
    case $MG_AUTH in
    sigv4) mg_configure_signing ;;
    none) ;;
    *) mg_die "$MG_EXIT_USAGE" "MWAA_GATE_AUTH must be sigv4 or none" \
        "(got '$(mg_printable "$MG_AUTH")')" ;;
    esac
    MG_CONFIGURED=yes
}

# The settings of --wait, checked before the request that starts the workflow.
mg_configure_wait() {
    MG_WAIT_SECONDS=${MWAA_GATE_WAIT_SECONDS:-5}
    MG_WAIT_TIMEOUT=${MWAA_GATE_WAIT_TIMEOUT:-10800}
    [[ $MG_WAIT_SECONDS =~ ^[0-9]{1,5}(\.[0-9]{1,3})?$ && ! $MG_WAIT_SECONDS =~ ^0+(\.0*)?$ ]] ||
        mg_die "$MG_EXIT_USAGE" "MWAA_GATE_WAIT_SECONDS must be a number of seconds above 0" \
            "(got '$(mg_printable "$MG_WAIT_SECONDS")')"
    [[ $MG_WAIT_TIMEOUT =~ ^[1-9][0-9]{0,6}$ ]] ||
        mg_die "$MG_EXIT_USAGE" "MWAA_GATE_WAIT_TIMEOUT must be a whole number of seconds" \
            "(got '$(mg_printable "$MG_WAIT_TIMEOUT")')"
    command -v python3 >/dev/null 2>&1 ||
        mg_die "$MG_EXIT_USAGE" '--wait needs python3 (to read the progress)'
}

# $1 with control characters shown as '?' (an error message never echoes a raw CR or ESC).
mg_printable() {
    printf '%s' "${1//[[:cntrl:]]/?}" | head -c 200
}

# Credentials as the AWS CLI finds them: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the
# rest of the standard chain (AWS_PROFILE, config and credentials files, SSO, process
# credentials, container and instance roles) through credentials.py.
mg_configure_signing() {
    if [[ -n ${AWS_ACCESS_KEY_ID:-} || -n ${AWS_SECRET_ACCESS_KEY:-} ]]; then
        [[ -n ${AWS_ACCESS_KEY_ID:-} && -n ${AWS_SECRET_ACCESS_KEY:-} ]] || mg_die "$MG_EXIT_USAGE" \
            'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (then the' \
            'AWS profile is used)'
        MG_KEY_ID=$AWS_ACCESS_KEY_ID MG_SECRET_KEY=$AWS_SECRET_ACCESS_KEY
        MG_SESSION_TOKEN=${AWS_SESSION_TOKEN:-}
    else
        local found
        command -v python3 >/dev/null 2>&1 || mg_die "$MG_EXIT_USAGE" \
            'AWS credentials are needed to sign requests: set AWS_ACCESS_KEY_ID and' \
            'AWS_SECRET_ACCESS_KEY, or install python3 to use an AWS profile'
        # A plain assignment: credentials.py's exit status (2) stops the script here.
        found=$(python3 "$MG_LIB_DIR/credentials.py" "$mg_program") || exit "$MG_EXIT_USAGE"
        {
            IFS= read -r MG_KEY_ID
            IFS= read -r MG_SECRET_KEY
            IFS= read -r MG_SESSION_TOKEN
            IFS= read -r MG_PROFILE_REGION
        } <<<"$found"
        [[ -n $MG_KEY_ID && -n $MG_SECRET_KEY ]] ||
            mg_die "$MG_EXIT_USAGE" 'the AWS credentials found are incomplete'
    fi
    # They travel inside curl config lines and HTTP headers: a line break would add options.
    [[ $MG_KEY_ID$MG_SECRET_KEY$MG_SESSION_TOKEN != *[[:cntrl:]]* ]] ||
        mg_die "$MG_EXIT_USAGE" 'the AWS credentials hold a control character (a line break?)'
    MG_REGION=${MWAA_GATE_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
    if [[ -z $MG_REGION && $MG_URL =~ \.execute-api\.([a-z0-9-]+)\.amazonaws\.com ]]; then
        MG_REGION=${BASH_REMATCH[1]}
    fi
    MG_REGION=${MG_REGION:-$MG_PROFILE_REGION}
    [[ -n $MG_REGION ]] || mg_die "$MG_EXIT_USAGE" \
        "set MWAA_GATE_REGION (or AWS_REGION) to the API's region to sign requests"
    [[ $MG_REGION =~ ^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$ ]] ||
        mg_die "$MG_EXIT_USAGE" "'$(mg_printable "$MG_REGION")' is not an AWS region"
}

MG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- the call --------------------------------------------------------------------------------

# A value inside a curl config file's double quotes.
mg_curl_config_value() {
    local value=${1//\\/\\\\}
    printf '"%s"' "${value//\"/\\\"}"
}

# Paths that curl 7.88 signs right: API Gateway encodes the received path once more for the
# canonical request, curl 7.88 does not, so they agree only on unreserved characters and "/".
mg_curl_can_sign() { # path_and_query
    [[ ${1%%\?*} =~ ^[A-Za-z0-9._~/-]*$ ]]
}

# mg_call METHOD PATH_AND_QUERY [JSON_BODY]
# Leaves the answer in $MG_ANSWER (show it with mg_show); on an HTTP error prints "HTTP
# <status> <Code>: <Message>" on stderr and exits 1. Credentials reach curl on its standard input (a config
# file), never on its command line, where other users of the machine could read them.
mg_call() {
    local method=$1 path=$2 body=${3-} url status answer request
    [[ -n $MG_CONFIGURED ]] || mg_configure
    url="$MG_URL$path"
    if [[ -z $MG_ANSWER ]]; then
        MG_ANSWER=$(mktemp)
        MG_REQUEST=$(mktemp)
        # shellcheck disable=SC2064 # expand now: the file names are fixed
        trap "rm -f '$MG_ANSWER' '$MG_REQUEST'" EXIT
    fi
    answer=$MG_ANSWER request=$MG_REQUEST
    : >"$answer"
    printf '%s' "$body" >"$request"
    local args=(--silent --show-error --request "$method" --output "$answer"
        --write-out '%{http_code}' --connect-timeout 10 --max-time 60
        --header 'Accept: application/json')
    if [[ -n $body ]]; then
        args+=(--header 'Content-Type: application/json' --data-binary "@$request")
    fi
    local config=''
    if [[ $MG_AUTH == sigv4 ]]; then
        if mg_curl_can_sign "$path"; then
            args+=(--aws-sigv4 "aws:amz:$MG_REGION:execute-api")
            config+="user = $(mg_curl_config_value "$MG_KEY_ID:$MG_SECRET_KEY")"$'\n'
            if [[ -n $MG_SESSION_TOKEN ]]; then
                config+="header = $(mg_curl_config_value "x-amz-security-token: $MG_SESSION_TOKEN")"$'\n'
            fi
        else
            local signed
            signed=$(AWS_ACCESS_KEY_ID=$MG_KEY_ID AWS_SECRET_ACCESS_KEY=$MG_SECRET_KEY \
                AWS_SESSION_TOKEN=$MG_SESSION_TOKEN \
                python3 "$MG_LIB_DIR/sigv4_headers.py" "$method" "$url" "$MG_REGION" "$request") ||
                mg_die "$MG_EXIT_USAGE" 'could not sign the request (python3 is needed)'
            config+=$signed$'\n'
        fi
    fi
    if ! status=$(printf '%s' "$config" | curl --config - "${args[@]}" "$url"); then
        mg_die "$MG_EXIT_UNREACHABLE" "could not reach $MG_URL (is MWAA_GATE_URL right?)"
    fi
    if [[ $status == 2?? ]]; then
        return 0
    fi
    printf '%s: HTTP %s %s\n' "$mg_program" "$status" "$(mg_error_text "$answer")" >&2
    exit "$MG_EXIT_API"
}

# --- following a workflow (--wait) ----------------------------------------------------------

# mg_wait onboard|offboard NAME: look at the environment every MWAA_GATE_WAIT_SECONDS until its
# workflow ends. Progress on stderr: one line rewritten in place on a terminal ("ONBOARDING ·
# step ConnectNetwork · 1m20s"), else a line per change. Then the record on stdout; on failure
# the failing step and cause on stderr and exit 4; exit 5 after MWAA_GATE_WAIT_TIMEOUT.
mg_wait() {
    local action=$1 name=$2 path started=$SECONDS state key line failure last=''
    path="/environments/$(mg_urlencode "$name")"
    while true; do
        mg_call GET "$path"
        state='' key='' line='' failure=''
        IFS=$'\t' read -r state key line failure < <(
            python3 "$MG_LIB_DIR/present.py" progress "$action" $((SECONDS - started)) <"$MG_ANSWER"
        ) || true
        [[ -n $state ]] || mg_die "$MG_EXIT_API" "unexpected answer from GET $path"
        if [[ -t 2 ]]; then
            printf '\r\033[K%s' "$line" >&2
        elif [[ $key != "$last" ]]; then
            printf '%s\n' "$line" >&2
        fi
        last=$key
        if [[ $state != running ]]; then
            [[ ! -t 2 ]] || printf '\n' >&2
            mg_show environment
            if [[ $state == failed ]]; then
                printf '%s: %s %s: %s\n' "$mg_program" "$action" "$(mg_printable "$name")" \
                    "$failure" >&2
                exit "$MG_EXIT_WORKFLOW_FAILED"
            fi
            return 0
        fi
        if ((SECONDS - started >= MG_WAIT_TIMEOUT)); then
            [[ ! -t 2 ]] || printf '\n' >&2
            mg_show environment
            mg_die "$MG_EXIT_WAIT_TIMEOUT" "still not done after ${MG_WAIT_TIMEOUT}s ($key);" \
                "the workflow goes on: follow it with get-environment"
        fi
        sleep "$MG_WAIT_SECONDS"
    done
}
