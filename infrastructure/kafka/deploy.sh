#!/usr/bin/env bash
# Pixel Studio on AWS: the MSK cluster and, once configured, the container tier and its alarms,
# as four CloudFormation stacks (pixel-studio-<env>-kafka, -storage, -services, -monitoring),
# each changed only through a reviewed change set. README "Production on AWS" has the setup.
#
#   ./deploy.sh deploy  -e dev  -v vpc-12345678 -s subnet-123,subnet-456            -g sg-789abc [-y]
#   ./deploy.sh deploy  -e prod -v vpc-12345678 -s subnet-123,subnet-456,subnet-789 -g sg-789abc [-y]
#   ./deploy.sh status  -e dev
#   ./deploy.sh outputs -e dev            # .env lines for the pipeline (never the password)
#   ./deploy.sh scale   -e prod -n 5 [-y] # workers' desired count and autoscaling minimum
#   ./deploy.sh delete  -e dev  [-y]      # prod asks for confirmation unless -y
#
# Uses the AWS CLI v2 with its usual credentials and region (AWS_PROFILE, AWS_REGION, ...), and
# cfn-lint from the project's venv (`npm test` or `bun infrastructure/aws/python-tools.ts`
# installs it) or from PATH. Optional: MSK_BROKER_INSTANCE_TYPE (default kafka.t3.small).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PROJECT=pixel-studio
# The request topic's partitions (shared/topics.ts): more workers than that would idle.
MAX_WORKERS=6
STACKS=(kafka storage services monitoring)

usage() {
  cat >&2 <<'EOF'
usage: deploy.sh deploy  -e dev|prod -v VPC_ID -s SUBNET_ID,SUBNET_ID[,SUBNET_ID] -g APP_SECURITY_GROUP_ID [-y]
       deploy.sh status  -e dev|prod
       deploy.sh outputs -e dev|prod
       deploy.sh scale   -e dev|prod -n WORKERS [-y]
       deploy.sh delete  -e dev|prod [-y]
  -e  environment: dev (2 brokers, 2 subnets) or prod (3 brokers, 3 subnets)
  -v  VPC of the brokers and the application
  -s  private subnets in distinct Availability Zones, comma-separated, one per broker
  -g  the application's security group, the only one admitted to the brokers
  -n  worker tasks, 1 to 6 (the request topic's partitions)
  -y  do not ask before applying changes or deleting
EOF
}

say() { printf '%s\n' "$*"; }
# Ends the script from anywhere, command substitutions included (they run in subshells).
MAIN_PID=$$
trap 'exit 1' TERM
fail() {
  printf 'deploy.sh: %s\n' "$*" >&2
  kill -s TERM "$MAIN_PID" 2>/dev/null
  exit 1
}
bad_usage() { printf 'deploy.sh: %s\n' "$*" >&2; usage; exit 2; }

template_of() {
  case "$1" in
    kafka) say "$HERE/msk-cluster.yml" ;;
    *) say "$ROOT/infrastructure/aws/$1.yml" ;;
  esac
}
stack_of() { say "$PROJECT-$ENVIRONMENT-$1"; }

# ---------- arguments: all checked before any AWS call ----------
COMMAND=${1:-}
[ -n "$COMMAND" ] || bad_usage "no command given"
shift
case "$COMMAND" in
  deploy | status | outputs | scale | delete) ;;
  -h | --help | help) usage; exit 0 ;;
  *) bad_usage "unknown command: $COMMAND" ;;
esac

ENVIRONMENT="" VPC="" SUBNETS="" APP_SG="" WORKERS="" ASSUME_YES=false
while getopts ":e:v:s:g:n:y" flag; do
  case "$flag" in
    e) ENVIRONMENT=$OPTARG ;;
    v) VPC=$OPTARG ;;
    s) SUBNETS=$OPTARG ;;
    g) APP_SG=$OPTARG ;;
    n) WORKERS=$OPTARG ;;
    y) ASSUME_YES=true ;;
    :) bad_usage "-$OPTARG needs a value" ;;
    *) bad_usage "unknown flag: -$OPTARG" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || bad_usage "unexpected argument: $1"

case "$ENVIRONMENT" in
  dev) BROKERS=2 WORKER_COUNT=2 MAX_CONCURRENT=4 TIMEOUT_MS=120000 ;;
  prod) BROKERS=3 WORKER_COUNT=5 MAX_CONCURRENT=20 TIMEOUT_MS=300000 ;;
  "") bad_usage "-e is required (dev or prod)" ;;
  *) bad_usage "-e must be dev or prod, not '$ENVIRONMENT'" ;;
esac

allowed_flags() {
  local allowed=$1 name value
  for name in v s g n; do
    case "$name" in v) value=$VPC ;; s) value=$SUBNETS ;; g) value=$APP_SG ;; n) value=$WORKERS ;; esac
    if [ -n "$value" ] && [[ $allowed != *"$name"* ]]; then bad_usage "-$name does not apply to $COMMAND"; fi
  done
}

SUBNET_LIST=()
if [ "$COMMAND" = deploy ]; then
  allowed_flags vsg
  [[ $VPC =~ ^vpc-[0-9a-f]{1,17}$ ]] || bad_usage "-v must be a VPC id (vpc-…), not '$VPC'"
  [[ $APP_SG =~ ^sg-[0-9a-f]{1,17}$ ]] || bad_usage "-g must be a security group id (sg-…), not '$APP_SG'"
  IFS=, read -r -a SUBNET_LIST <<<"$SUBNETS"
  for subnet in "${SUBNET_LIST[@]}"; do
    [[ $subnet =~ ^subnet-[0-9a-f]{1,17}$ ]] || bad_usage "-s must list subnet ids (subnet-…), not '$subnet'"
  done
  if [ "${#SUBNET_LIST[@]}" -ne "$BROKERS" ]; then
    bad_usage "$ENVIRONMENT runs $BROKERS brokers, one per subnet: -s needs $BROKERS subnets, got ${#SUBNET_LIST[@]}"
  fi
  if [ "$(printf '%s\n' "${SUBNET_LIST[@]}" | sort -u | wc -l)" -ne "$BROKERS" ]; then
    bad_usage "-s lists a subnet twice"
  fi
elif [ "$COMMAND" = scale ]; then
  allowed_flags n
  if ! [[ $WORKERS =~ ^[0-9]+$ ]] || [ "$WORKERS" -lt 1 ] || [ "$WORKERS" -gt "$MAX_WORKERS" ]; then
    bad_usage "-n must be a number of workers from 1 to $MAX_WORKERS (the request topic's partitions), not '$WORKERS'"
  fi
else
  allowed_flags ""
fi

command -v aws >/dev/null 2>&1 || fail "the AWS CLI (aws) is not on PATH; see README, Production on AWS"

# ---------- calling AWS ----------
AWS_ERR=$(mktemp)
trap 'rm -f "$AWS_ERR"' EXIT

# Runs one AWS CLI command; its output on stdout. After a failure, aws_error prints the CLI's
# message (kept in a file: calls often run in a subshell, whose variables are lost).
call() {
  local out code
  out=$(aws --no-cli-pager "$@" 2>"$AWS_ERR")
  code=$?
  [ $code -eq 0 ] && printf '%s' "$out"
  return $code
}
aws_error() { tr -s '\n' ' ' <"$AWS_ERR" | sed 's/^ *//; s/ *$//'; }
# As call, but a failure ends the script, saying what was being done.
must() {
  local what=$1 out code
  shift
  out=$(call "$@")
  code=$?
  [ $code -eq 0 ] || fail "$what failed (exit $code): $(aws_error)"
  printf '%s' "$out"
}

# Prints the stack's status, or nothing when it does not exist.
stack_status() {
  local out
  if out=$(call cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text); then
    printf '%s' "$out"
  elif [[ $(aws_error) == *"does not exist"* ]]; then
    printf ''
  else
    fail "reading stack $1 failed: $(aws_error)"
  fi
}

stack_output() {
  must "reading the outputs of $1" cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text
}

confirm() {
  $ASSUME_YES && return 0
  [ -t 0 ] || { say "deploy.sh: no terminal to confirm on: pass -y to $1" >&2; return 1; }
  local answer
  read -r -p "$1? [y/N] " answer
  [[ $answer == [yY] || $answer == [yY][eE][sS] ]]
}

# ---------- deploying one stack through a change set ----------
# deploy_stack NAME PARAMETERS_JSON TEMPLATE_ARGS...
# Returns when applied or unchanged; ends the script on anything else, saying what is left.
deploy_stack() {
  local stack=$1 parameters=$2
  shift 2
  local template_args=("$@")
  local status type change_set id reason changes
  status=$(stack_status "$stack")
  case "$status" in
    "" | REVIEW_IN_PROGRESS) type=CREATE ;;
    *_COMPLETE) type=UPDATE ;;
    *) fail "stack $stack is $status; nothing was changed. Wait for it, or delete it if a create failed (./deploy.sh delete -e $ENVIRONMENT)" ;;
  esac
  [ "$status" = ROLLBACK_COMPLETE ] &&
    fail "stack $stack is ROLLBACK_COMPLETE after a failed create; delete it first (./deploy.sh delete -e $ENVIRONMENT)"
  change_set="deploy-$(date -u +%Y%m%dT%H%M%SZ)"
  say "== $stack: creating change set $change_set ($type)"
  id=$(must "creating a change set for $stack" cloudformation create-change-set \
    --stack-name "$stack" --change-set-name "$change_set" --change-set-type "$type" \
    "${template_args[@]}" --parameters "$parameters" --capabilities CAPABILITY_IAM \
    --tags "Key=project,Value=$PROJECT" "Key=environment,Value=$ENVIRONMENT" --query Id --output text)

  if ! call cloudformation wait change-set-create-complete --stack-name "$stack" --change-set-name "$id" >/dev/null; then
    reason=$(call cloudformation describe-change-set --stack-name "$stack" --change-set-name "$id" \
      --query StatusReason --output text) || reason=$(aws_error)
    if [[ $reason == *"didn't contain changes"* || $reason == *"No updates are to be performed"* ]]; then
      call cloudformation delete-change-set --stack-name "$stack" --change-set-name "$id" >/dev/null ||
        say "deploy.sh: could not delete the empty change set $change_set of $stack: $(aws_error)" >&2
      say "== $stack: no changes"
      return 0
    fi
    discard_change_set "$stack" "$id" "$type"
    fail "the change set for $stack failed: $reason. Nothing was changed."
  fi

  changes=$(must "reading the change set of $stack" cloudformation describe-change-set --stack-name "$stack" \
    --change-set-name "$id" --query 'Changes[].ResourceChange.[Action,LogicalResourceId,ResourceType,Replacement]' \
    --output text)
  say "$changes" | awk -F'\t' '{ printf "   %-7s %-34s %-44s %s\n", $1, $2, $3, ($4 == "None" ? "" : "replacement: " $4) }'
  if ! confirm "Apply these changes to $stack"; then
    discard_change_set "$stack" "$id" "$type"
    fail "not applied; the change set was deleted and $stack is as it was."
  fi

  must "executing the change set of $stack" cloudformation execute-change-set --stack-name "$stack" --change-set-name "$id" >/dev/null
  if [ "$type" = CREATE ] && [[ $stack == *-kafka ]]; then
    say "== $stack: applying… (a new MSK cluster takes 20 to 40 minutes)"
  else
    say "== $stack: applying…"
  fi
  local waiter=stack-update-complete
  [ "$type" = CREATE ] && waiter="stack-create-complete"
  if ! call cloudformation wait "$waiter" --stack-name "$stack" >/dev/null; then
    report_failure "$stack"
    fail "$stack was not deployed; CloudFormation rolled it back (status $(stack_status "$stack"))."
  fi
  say "== $stack: $(stack_status "$stack")"
}

# A change set that will not be applied is deleted; so is the empty stack a CREATE made for it.
discard_change_set() {
  local stack=$1 id=$2 type=$3
  call cloudformation delete-change-set --stack-name "$stack" --change-set-name "$id" >/dev/null ||
    say "deploy.sh: could not delete change set $id of $stack: $(aws_error)" >&2
  if [ "$type" = CREATE ] && [ "$(stack_status "$stack")" = REVIEW_IN_PROGRESS ]; then
    call cloudformation delete-stack --stack-name "$stack" >/dev/null ||
      say "deploy.sh: could not delete the empty stack $stack (REVIEW_IN_PROGRESS): $(aws_error)" >&2
  fi
}

report_failure() {
  local events
  events=$(call cloudformation describe-stack-events --stack-name "$1" \
    --query "StackEvents[?contains(ResourceStatus, 'FAILED')].[LogicalResourceId,ResourceStatus,ResourceStatusReason]" \
    --output text) || events="(events unreadable: $(aws_error))"
  say "deploy.sh: what failed in $1:" >&2
  say "$events" | head -n 10 | sed 's/^/   /' >&2
}

# JSON for --parameters: pairs of key and value, or key and the word :previous.
parameters_json() {
  local json="" key value
  while [ $# -gt 0 ]; do
    key=$1 value=$2
    shift 2
    [[ $value == *[\"\\]* ]] && fail "the value of $key contains a quote or a backslash: '$value'"
    if [ "$value" = ":previous" ]; then
      json+="{\"ParameterKey\":\"$key\",\"UsePreviousValue\":true},"
    else
      json+="{\"ParameterKey\":\"$key\",\"ParameterValue\":\"$value\"},"
    fi
  done
  printf '[%s]' "${json%,}"
}

# ---------- the container tier's settings, kept in the account ----------
REQUIRED_SETTINGS=(image public-subnets certificate-arn public-ws-url studio-origin)
OPTIONAL_SETTINGS=(alarm-email generation-provider openai-base-url)
declare -A SETTING=()
APP_SECRET_ARN=""

read_settings() {
  local prefix="/$PROJECT/$ENVIRONMENT/" names=() name value missing=() found=0
  for name in "${REQUIRED_SETTINGS[@]}" "${OPTIONAL_SETTINGS[@]}"; do names+=("$prefix$name"); done
  local rows
  rows=$(must "reading the settings under $prefix (SSM Parameter Store)" ssm get-parameters --names "${names[@]}" \
    --query 'Parameters[].[Name,Value]' --output text)
  while IFS=$'\t' read -r name value; do
    [ -n "$name" ] && SETTING[${name#"$prefix"}]=$value
  done <<<"$rows"
  for name in "${REQUIRED_SETTINGS[@]}"; do
    if [ -n "${SETTING[$name]:-}" ]; then found=$((found + 1)); else missing+=("$prefix$name"); fi
  done
  if APP_SECRET_ARN=$(call secretsmanager describe-secret --secret-id "$PROJECT/$ENVIRONMENT/app" --query ARN --output text); then
    found=$((found + 1))
  elif [[ $(aws_error) == *ResourceNotFoundException* ]]; then
    APP_SECRET_ARN="" missing+=("secret $PROJECT/$ENVIRONMENT/app")
  else
    fail "reading the secret $PROJECT/$ENVIRONMENT/app failed: $(aws_error)"
  fi
  if [ "$found" -eq 0 ]; then
    CONTAINER_TIER=false
    say "== container tier not configured ($prefix… and the secret $PROJECT/$ENVIRONMENT/app are absent):"
    say "   deploying the Kafka cluster and its alarms only. README, Production on AWS, says how to add it."
  elif [ "${#missing[@]}" -gt 0 ]; then
    fail "the container tier is half configured; missing: ${missing[*]}. Nothing was changed."
  else
    CONTAINER_TIER=true
  fi
}

check_network() {
  local rows vpc_of_sg zones
  rows=$(must "checking the subnets" ec2 describe-subnets --subnet-ids "${SUBNET_LIST[@]}" \
    --query 'Subnets[].[SubnetId,VpcId,AvailabilityZone]' --output text)
  while IFS=$'\t' read -r subnet vpc _zone; do
    [ "$vpc" = "$VPC" ] || fail "subnet $subnet is in $vpc, not in $VPC. Nothing was changed."
  done <<<"$rows"
  zones=$(say "$rows" | cut -f3 | sort -u | wc -l)
  [ "$zones" -eq "$BROKERS" ] ||
    fail "the subnets share Availability Zones ($(say "$rows" | cut -f3 | sort | tr '\n' ' ')); MSK needs one broker per zone. Nothing was changed."
  vpc_of_sg=$(must "checking the security group" ec2 describe-security-groups --group-ids "$APP_SG" \
    --query 'SecurityGroups[0].VpcId' --output text)
  [ "$vpc_of_sg" = "$VPC" ] || fail "security group $APP_SG is in $vpc_of_sg, not in $VPC. Nothing was changed."
}

cfn_lint() {
  local lint="$ROOT/.cache/aws-tools/bin/cfn-lint"
  [ -x "$lint" ] || lint=$(command -v cfn-lint) ||
    fail "cfn-lint not found: run 'bun infrastructure/aws/python-tools.ts' (or npm test) once"
  local templates=()
  for name in "${STACKS[@]}"; do templates+=("$(template_of "$name")"); done
  say "== linting the templates"
  "$lint" -- "${templates[@]}" || fail "cfn-lint found problems in the templates (above). Nothing was changed."
}

bootstrap_brokers() {
  local arn brokers
  arn=$(stack_output "$(stack_of kafka)" ClusterArn)
  brokers=$(must "asking MSK for the bootstrap brokers" kafka get-bootstrap-brokers --cluster-arn "$arn" \
    --query BootstrapBrokerStringSaslScram --output text)
  [[ $brokers =~ ^[A-Za-z0-9.-]+:9096(,[A-Za-z0-9.-]+:9096)*$ ]] ||
    fail "MSK gave no SASL/SCRAM bootstrap brokers on 9096 (got '$brokers'); is SCRAM on?"
  printf '%s' "$brokers"
}

# ---------- commands ----------
cmd_deploy() {
  # Read-only checks first (cheap, and they name the problem), then the linter, then changes.
  check_network
  read_settings
  cfn_lint
  local subnets_csv
  subnets_csv=$(IFS=,; say "${SUBNET_LIST[*]}")
  local instance_type=${MSK_BROKER_INSTANCE_TYPE:-kafka.t3.small}
  local stack applied=()

  stack=$(stack_of kafka)
  deploy_stack "$stack" "$(parameters_json Environment "$ENVIRONMENT" VpcId "$VPC" SubnetIds "$subnets_csv" \
    AppSecurityGroupId "$APP_SG" BrokerInstanceType "$instance_type")" --template-body "file://$(template_of kafka)"
  applied+=("$stack")

  if $CONTAINER_TIER; then
    stack=$(stack_of storage)
    deploy_stack "$stack" "$(parameters_json Environment "$ENVIRONMENT" VpcId "$VPC" SubnetIds "$subnets_csv" \
      AppSecurityGroupId "$APP_SG")" --template-body "file://$(template_of storage)"
    applied+=("$stack")

    local brokers workers=$WORKER_COUNT
    brokers=$(bootstrap_brokers)
    stack=$(stack_of services)
    # A later deploy keeps the count `scale` set.
    [ -n "$(stack_status "$stack")" ] && [ "$(stack_status "$stack")" != REVIEW_IN_PROGRESS ] && workers=:previous
    deploy_stack "$stack" "$(parameters_json Environment "$ENVIRONMENT" VpcId "$VPC" SubnetIds "$subnets_csv" \
      AppSecurityGroupId "$APP_SG" PublicSubnetIds "${SETTING[public-subnets]}" ContainerImage "${SETTING[image]}" \
      CertificateArn "${SETTING[certificate-arn]}" PublicWsUrl "${SETTING[public-ws-url]}" \
      StudioOrigin "${SETTING[studio-origin]}" AppSecretArn "$APP_SECRET_ARN" KafkaBrokers "$brokers" \
      WorkerCount "$workers" MaxConcurrentGenerations "$MAX_CONCURRENT" GenerationTimeoutMs "$TIMEOUT_MS" \
      GenerationProvider "${SETTING[generation-provider]:-procedural}" \
      OpenAiBaseUrl "${SETTING[openai-base-url]:-}")" --template-body "file://$(template_of services)"
    applied+=("$stack")
  fi

  stack=$(stack_of monitoring)
  deploy_stack "$stack" "$(parameters_json Environment "$ENVIRONMENT" BrokerInstanceType "$instance_type" \
    AlarmEmail "${SETTING[alarm-email]:-}" ServicesDeployed "$CONTAINER_TIER")" --template-body "file://$(template_of monitoring)"
  applied+=("$stack")
  say "deployed: ${applied[*]}"
  say "next: ./deploy.sh outputs -e $ENVIRONMENT"
}

cmd_scale() {
  local stack keys parameters=()
  stack=$(stack_of services)
  case "$(stack_status "$stack")" in
    "" | REVIEW_IN_PROGRESS) fail "the container tier of $ENVIRONMENT is not deployed ($stack); deploy it first" ;;
  esac
  keys=$(must "reading the parameters of $stack" cloudformation describe-stacks --stack-name "$stack" \
    --query 'Stacks[0].Parameters[].ParameterKey' --output text)
  for key in $keys; do
    if [ "$key" = WorkerCount ]; then parameters+=("$key" "$WORKERS"); else parameters+=("$key" :previous); fi
  done
  deploy_stack "$stack" "$(parameters_json "${parameters[@]}")" --use-previous-template
  say "workers: $WORKERS desired, autoscaling between $WORKERS and $MAX_WORKERS on consumer lag"
}

cmd_status() {
  local name stack status unhealthy=false
  for name in "${STACKS[@]}"; do
    stack=$(stack_of "$name")
    status=$(stack_status "$stack")
    printf '%-32s %s\n' "$stack" "${status:-not deployed}"
    case "$status" in *FAILED* | *ROLLBACK*) unhealthy=true ;; esac
  done
  if [[ "$(stack_status "$(stack_of kafka)")" == *_COMPLETE ]]; then
    local arn
    arn=$(stack_output "$(stack_of kafka)" ClusterArn)
    printf '%-32s %s\n' "MSK cluster" "$(must "describing the MSK cluster" kafka describe-cluster-v2 --cluster-arn "$arn" \
      --query ClusterInfo.State --output text)"
  fi
  if [[ "$(stack_status "$(stack_of services)")" == *_COMPLETE ]]; then
    must "describing the ECS services" ecs describe-services --cluster "$PROJECT-$ENVIRONMENT" \
      --services worker gateway relay history --query 'services[].[serviceName,runningCount,desiredCount]' --output text |
      awk -F'\t' '{ printf "%-32s %s running of %s desired\n", "service " $1, $2, $3 }'
  fi
  ! $unhealthy
}

cmd_outputs() {
  local stack status brokers
  stack=$(stack_of kafka)
  status=$(stack_status "$stack")
  [[ $status == *_COMPLETE && $status != *ROLLBACK* ]] || fail "$stack is ${status:-not deployed}; deploy it first"
  brokers=$(bootstrap_brokers)
  say "# Pixel Studio $ENVIRONMENT on AWS MSK: lines for .env (SCRAM over TLS, port 9096)."
  say "KAFKA_BROKERS=$brokers"
  say "KAFKA_SSL=true"
  say "KAFKA_SASL_USERNAME=$(stack_output "$stack" ScramUsername)"
  say "# The password is never printed; it is the \"password\" field of the secret:"
  say "#   aws secretsmanager get-secret-value --secret-id $(stack_output "$stack" ScramSecretArn) --query SecretString --output text"
  say "KAFKA_SASL_PASSWORD="
  say "KAFKA_REPLICATION_FACTOR=$(stack_output "$stack" ReplicationFactor)"
  say "KAFKA_MIN_INSYNC_REPLICAS=$(stack_output "$stack" MinInsyncReplicas)"
  say "PROCESSING_WORKER_INSTANCES=$WORKER_COUNT"
  say "MAX_CONCURRENT_GENERATIONS=$MAX_CONCURRENT"
  say "GENERATION_TIMEOUT_MS=$TIMEOUT_MS"
  if [[ "$(stack_status "$(stack_of services)")" == *_COMPLETE ]]; then
    say "# The container tier: point the gateway's and PUBLIC_WS_URL's host names at these load"
    say "# balancers; the edge then uses KAFKA_REST_URL=https://<gateway name> and the WORKER_URL below."
    say "#   gateway:   $(stack_output "$(stack_of services)" GatewayLoadBalancerDns)"
    say "#   WebSocket: $(stack_output "$(stack_of services)" WsLoadBalancerDns)"
    say "# WORKER_URL=$(stack_output "$(stack_of services)" EdgeWorkerUrl)"
    say "PUBLIC_IMAGE_URL=$(stack_output "$(stack_of storage)" ImagesUrl)"
  fi
}

cmd_delete() {
  if [ "$ENVIRONMENT" = prod ] && ! confirm "Delete Pixel Studio prod (its MSK cluster and every message in it)"; then
    fail "prod was not deleted (no confirmation)."
  fi
  local bucket="" database="" i stack status
  [[ "$(stack_status "$(stack_of storage)")" == *_COMPLETE ]] && {
    bucket=$(stack_output "$(stack_of storage)" ImagesBucket)
    database=$(stack_output "$(stack_of storage)" DatabaseInstance)
  }
  for ((i = ${#STACKS[@]} - 1; i >= 0; i--)); do
    stack=$(stack_of "${STACKS[$i]}")
    status=$(stack_status "$stack")
    [ -z "$status" ] && continue
    say "== $stack: deleting ($status)…"
    must "deleting $stack" cloudformation delete-stack --stack-name "$stack" >/dev/null
    if ! call cloudformation wait stack-delete-complete --stack-name "$stack" >/dev/null; then
      report_failure "$stack"
      fail "$stack could not be deleted (status $(stack_status "$stack")); the stacks after it were left as they are."
    fi
    say "== $stack: deleted"
  done
  [ -n "$bucket" ] && say "kept: the images bucket $bucket (remove it with: aws s3 rb s3://$bucket --force)"
  [ -n "$database" ] && say "kept: a final snapshot of the history database $database"
  say "deleted: Pixel Studio $ENVIRONMENT"
}

CONTAINER_TIER=false
"cmd_$COMMAND"
