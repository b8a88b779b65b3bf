#!/usr/bin/env bash
# kafka-init: the platform's topics, SCRAM principals and ACLs on the Kouiki broker.
#
# Runs in the apache/kafka image (bash, /opt/kafka/bin) after the broker is healthy, as User:broker
# over PLAIN on the INTERBROKER listener (the only principal that exists before any SCRAM user).
# Idempotent, safe on every `docker compose up`:
#   * topics:  kafka-topics.sh --create --if-not-exists
#   * users:   SCRAM-SHA-512 credentials are upserted (re-salted) from the environment / secret file,
#              so a changed password takes effect on the next `up`
#   * ACLs:    creating an ACL that already exists is a no-op success on the KRaft controller
#   * revoke:  a consortium principal no longer in the secret file loses its ACLs on the intake
#              topics and its SCRAM credential
#   * audit:   any ALLOW ACL (literal, prefixed or wildcard) that lets someone else read or write the
#              intake / dead-letter topics fails the run (INIT_ACL_AUDIT=warn only reports it)
#
# Passwords never appear on a command line or in the tools' environment: they reach the Kafka tools
# only through 0600 files in a private temp dir (--command-config, --add-config-file), written with
# the printf builtin, removed on exit.
#
# Environment:
#   BROKER_SASL_PASSWORD    PLAIN password of User:broker (the super user)              required
#   GATEWAY_SCRAM_PASSWORD  SCRAM password of User:gateway                               required
#   LANDER_SCRAM_PASSWORD   SCRAM password of User:lander                                required
#   CONSORTIA_FILE          consortium principals, "<principal> <password>" per line     /run/secrets/kafka_consortia
#   INIT_BOOTSTRAP          PLAIN listener to administer through                         broker:29094
#   INIT_SCRAM_ITERATIONS   SCRAM iterations (Kafka accepts 4096..16384)                 8192
#   INIT_ACL_AUDIT          fail | warn                                                  fail
#   INIT_REVOKE_ALL         yes = allow revoking every consortium when the file is empty  no
#   INIT_BROKER_ID          node id whose config is checked for StandardAuthorizer       1
#
# Consortium file (a Docker secret; one principal per line; blank lines and # comments ignored):
#   # principal              password
#   consortium-tokai         Q2p8...43 characters from secrets.token_urlsafe(32)...
# principal: [a-z0-9][a-z0-9._-]{0,63}, not broker/gateway/lander; password: [A-Za-z0-9._~-]{24,}.
set -euo pipefail
umask 077

readonly BIN=${KAFKA_BIN:-/opt/kafka/bin}  # the image's; a test points it at stand-ins
readonly BOOTSTRAP=${INIT_BOOTSTRAP:-broker:29094}
readonly ITERATIONS=${INIT_SCRAM_ITERATIONS:-8192}
readonly CONSORTIA_FILE=${CONSORTIA_FILE:-/run/secrets/kafka_consortia}
readonly AUDIT=${INIT_ACL_AUDIT:-fail}
readonly REVOKE_ALL=${INIT_REVOKE_ALL:-no}

readonly REGISTRY=kouiki.registry.v1
readonly REPORTS=kouiki.reports.v1
readonly DEADLETTER=kouiki.deadletter.v1
readonly BROKER=broker GATEWAY=gateway LANDER=lander

log() { echo "kafka-init: $*"; }
die() { echo "kafka-init: ERROR: $*" >&2; exit 1; }

# --- inputs -----------------------------------------------------------------------------------------
check_password() {  # name value; never prints the value
    [[ $2 != *change-me* ]] || die "$1 is still a change-me placeholder"
    [[ $2 =~ ^[A-Za-z0-9._~-]{24,}$ ]] ||
        die "$1: use 24+ characters from A-Z a-z 0-9 . _ ~ - (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
}
check_password BROKER_SASL_PASSWORD "${BROKER_SASL_PASSWORD:?BROKER_SASL_PASSWORD is not set}"
check_password GATEWAY_SCRAM_PASSWORD "${GATEWAY_SCRAM_PASSWORD:?GATEWAY_SCRAM_PASSWORD is not set}"
check_password LANDER_SCRAM_PASSWORD "${LANDER_SCRAM_PASSWORD:?LANDER_SCRAM_PASSWORD is not set}"
# Keep the passwords as unexported shell variables: the Kafka tools' JVMs need none in their environment.
broker_pw=$BROKER_SASL_PASSWORD gateway_pw=$GATEWAY_SCRAM_PASSWORD lander_pw=$LANDER_SCRAM_PASSWORD
unset BROKER_SASL_PASSWORD GATEWAY_SCRAM_PASSWORD LANDER_SCRAM_PASSWORD
[[ $ITERATIONS =~ ^[0-9]+$ ]] && (( ITERATIONS >= 4096 && ITERATIONS <= 16384 )) ||
    die "INIT_SCRAM_ITERATIONS must be 4096..16384"
[[ $AUDIT == fail || $AUDIT == warn ]] || die "INIT_ACL_AUDIT must be fail or warn"

declare -A CONSORTIA=()       # principal -> password
[[ -r $CONSORTIA_FILE ]] || die "$CONSORTIA_FILE is not readable (mount the kafka_consortia secret, readable by uid $(id -u))"
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    [[ $line =~ ^[[:space:]]*([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]*$ ]] ||
        die "$CONSORTIA_FILE line $lineno: expected '<principal> <password>'"
    name=${BASH_REMATCH[1]} pw=${BASH_REMATCH[2]}
    [[ $name =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || die "$CONSORTIA_FILE line $lineno: invalid principal name '$name'"
    [[ $name != "$BROKER" && $name != "$GATEWAY" && $name != "$LANDER" ]] ||
        die "$CONSORTIA_FILE line $lineno: '$name' is reserved"
    [[ -z ${CONSORTIA[$name]+set} ]] || die "$CONSORTIA_FILE line $lineno: '$name' is listed twice"
    check_password "$CONSORTIA_FILE line $lineno ($name)" "$pw"
    CONSORTIA[$name]=$pw
done < "$CONSORTIA_FILE"
unset line pw
log "${#CONSORTIA[@]} consortium principal(s) in $CONSORTIA_FILE"

# --- admin client config (0600, removed on exit) -----------------------------------------------------
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
readonly ADMIN=$WORK/admin.properties
printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=PLAIN' \
    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$BROKER\" password=\"$broker_pw\";" \
    > "$ADMIN"
unset broker_pw

topics()  { "$BIN/kafka-topics.sh"  --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" "$@"; }
configs() { "$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" "$@"; }
acls()    { "$BIN/kafka-acls.sh"    --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" "$@"; }
allow()   { acls --add "$@" > /dev/null; }   # kafka-acls prints the ACLs it adds; keep the log short

# Each ACE as "<principal> <OPERATION> <PERMISSION>", from kafka-acls --list output lines such as
#   (principal=User:lander, host=*, operation=READ, permissionType=ALLOW)
list_aces() {
    acls --list "$@" |
        sed -n 's/.*(principal=\([^,]*\), host=[^,]*, operation=\([A-Z_]*\), permissionType=\([A-Z]*\)).*/\1 \2 \3/p' |
        sort -u
}

# --- wait for the broker (depends_on already waits for its healthcheck; this covers `run` by hand) ---
for attempt in $(seq 1 20); do
    if "$BIN/kafka-broker-api-versions.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$ADMIN" > /dev/null 2>&1; then
        break
    fi
    (( attempt < 20 )) || die "broker at $BOOTSTRAP does not answer (or refuses User:$BROKER)"
    sleep 3
done

# --- refuse to run against a broker without the authorizer (ACLs would silently mean nothing) -----------
broker_configs=$(configs --describe --entity-type brokers --entity-name "${INIT_BROKER_ID:-1}" --all)
grep -q '^ *authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer ' <<< "$broker_configs" ||
    die "broker ${INIT_BROKER_ID:-1} does not run org.apache.kafka.metadata.authorizer.StandardAuthorizer"
unset broker_configs

# --- topics --------------------------------------------------------------------------------------------
# Partition counts as in streams/kouiki/messaging/topics.py (TOPIC_PARTITIONS).
for spec in "$REGISTRY:3" "$REPORTS:3" "$DEADLETTER:1"; do
    topics --create --if-not-exists --topic "${spec%:*}" --partitions "${spec#*:}" --replication-factor 1
done

# --- SCRAM users ---------------------------------------------------------------------------------------
upsert_scram() {  # principal password
    local file=$WORK/scram.properties
    # --add-config-file is a Java properties file; its value is "[iterations=N,]password=P" (no brackets)
    printf 'SCRAM-SHA-512=iterations=%s,password=%s\n' "$ITERATIONS" "$2" > "$file"
    configs --alter --entity-type users --entity-name "$1" --add-config-file "$file" > /dev/null
    rm -f "$file"
    log "SCRAM-SHA-512 credential set for User:$1"
}
upsert_scram "$GATEWAY" "$gateway_pw"
upsert_scram "$LANDER" "$lander_pw"
unset gateway_pw lander_pw
for name in "${!CONSORTIA[@]}"; do
    upsert_scram "$name" "${CONSORTIA[$name]}"
done

# --- ACLs ----------------------------------------------------------------------------------------------
# Write implies Describe and Read implies Describe in StandardAuthorizer; Describe is still granted
# explicitly so the table reads as intended. No IdempotentWrite: since Kafka 3.0 (KIP-679) an
# idempotent producer's InitProducerId is authorized by Write on any topic.

# gateway: produces to both intake topics; reads the registry (librdkafka reader, group.id
# "kouiki-registry-reader": FindCoordinator needs Describe on that group); its own groups kouiki-gateway*.
allow --allow-principal "User:$GATEWAY" --operation Write --operation Describe --topic "$REPORTS"
allow --allow-principal "User:$GATEWAY" --operation Write --operation Describe --operation Read --topic "$REGISTRY"
allow --allow-principal "User:$GATEWAY" --operation Read --resource-pattern-type prefixed --group kouiki-gateway
allow --allow-principal "User:$GATEWAY" --operation Describe --group kouiki-registry-reader

# lander (Airflow ingest tasks, the triggerer's kouiki-ingest-trigger group, kouiki status):
# reads both intake topics, writes and reads the dead-letter topic, groups kouiki-*.
allow --allow-principal "User:$LANDER" --operation Read --operation Describe --topic "$REPORTS" --topic "$REGISTRY"
allow --allow-principal "User:$LANDER" --operation Write --operation Describe --operation Read --topic "$DEADLETTER"
allow --allow-principal "User:$LANDER" --operation Read --resource-pattern-type prefixed --group kouiki-

# consortia (`kouiki submit` from their own machines): write both intake topics; read the registry,
# against which submit checks every report before sending (registrations are public: dim_project is
# open data). Never the reports of others, never the dead letters.
if (( ${#CONSORTIA[@]} > 0 )); then
    principals=()
    for name in "${!CONSORTIA[@]}"; do principals+=(--allow-principal "User:$name"); done
    allow "${principals[@]}" --operation Write --operation Describe --topic "$REPORTS"
    allow "${principals[@]}" --operation Write --operation Describe --operation Read --topic "$REGISTRY"
    allow "${principals[@]}" --operation Describe --group kouiki-registry-reader
fi
log "ACLs for User:$GATEWAY, User:$LANDER and ${#CONSORTIA[@]} consortium principal(s) in place"

# --- revoke consortia no longer in the file --------------------------------------------------------------
# A consortium principal is anyone holding the literal Write ACL on the reports topic, except the gateway.
# Reserved names are never revoked here (a stray grant to them is the audit's business).
revoke=()
# Listings are captured first: a failing kafka-acls must fail the run, not read as "no ACLs".
report_aces=$(list_aces --topic "$REPORTS")
while read -r principal op perm; do
    [[ -n $principal ]] || continue
    name=${principal#User:}
    [[ $principal == User:* && $op == WRITE && $perm == ALLOW ]] || continue
    [[ $name == "$BROKER" || $name == "$GATEWAY" || $name == "$LANDER" ]] && continue
    [[ -n ${CONSORTIA[$name]+set} ]] && continue
    revoke+=("$name")
done <<< "$report_aces"
if (( ${#revoke[@]} > 0 && ${#CONSORTIA[@]} == 0 )) && [[ $REVOKE_ALL != yes ]]; then
    die "$CONSORTIA_FILE lists no consortium but ${#revoke[@]} hold Write on $REPORTS (${revoke[*]}); refusing to revoke them all without INIT_REVOKE_ALL=yes"
fi
for name in "${revoke[@]}"; do
    # Explicit operations: kafka-acls --remove without --operation deletes every ACL on the resource.
    acls --remove --force --allow-principal "User:$name" --operation Write --operation Describe --topic "$REPORTS" > /dev/null
    acls --remove --force --allow-principal "User:$name" --operation Write --operation Describe --operation Read \
        --topic "$REGISTRY" > /dev/null
    acls --remove --force --allow-principal "User:$name" --operation Describe --group kouiki-registry-reader > /dev/null
    acls --remove --force --allow-principal "User:$name" --operation IdempotentWrite --cluster > /dev/null
    if configs --alter --entity-type users --entity-name "$name" --delete-config SCRAM-SHA-512 > /dev/null 2>&1; then
        log "revoked User:$name (ACLs and SCRAM credential)"
    else
        log "revoked User:$name (ACLs; it had no SCRAM-SHA-512 credential)"
    fi
done

# --- audit: who may read / write the intake and dead-letter topics ---------------------------------------
# --resource-pattern-type match lists every ACL that applies to the topic: literal, prefixed, wildcard.
consortium_writers=""
for name in "${!CONSORTIA[@]}"; do consortium_writers+=" User:$name"; done
violations=0
audit() {  # topic "readers" "writers" (space-separated principals)
    local topic=$1 readers=" $2 " writers=" $3 " aces principal op perm
    aces=$(list_aces --topic "$topic" --resource-pattern-type match)
    while read -r principal op perm; do
        [[ -n $principal && $perm == ALLOW ]] || continue
        case $op in
            READ)  [[ $readers == *" $principal "* ]] && continue ;;
            WRITE) [[ $writers == *" $principal "* ]] && continue ;;
            ALL)   ;;
            *)     continue ;;
        esac
        echo "kafka-init: ACL AUDIT: $principal is allowed $op on $topic (outside the policy)" >&2
        violations=$((violations + 1))
    done <<< "$aces"
}
audit "$REPORTS"    "User:$LANDER"                "User:$GATEWAY$consortium_writers"
audit "$REGISTRY"   "User:$LANDER User:$GATEWAY$consortium_writers"  "User:$GATEWAY$consortium_writers"
audit "$DEADLETTER" "User:$LANDER"                "User:$LANDER"
if (( violations > 0 )); then
    [[ $AUDIT == warn ]] || die "$violations ACL(s) break the topic policy (remove them, or INIT_ACL_AUDIT=warn)"
    log "WARNING: $violations ACL(s) break the topic policy (INIT_ACL_AUDIT=warn)"
fi

log "done"
