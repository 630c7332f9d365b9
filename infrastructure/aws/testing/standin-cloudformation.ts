/**
 * `aws cloudformation …` as the CLI documents it, for the commands deploy.sh uses: stacks and
 * change sets with their statuses, the waiters and their failure messages, exports that block
 * deleting the stack that makes them, and injected failures (AccountState.failOn*).
 */
import {
  type AccountState,
  type ChangeSet,
  isoTime,
  type Stack,
  serviceError,
  tick,
  usageError,
  waiterFailure,
} from "./standin-state.ts";
import { changesBetween, type ParsedTemplate, parseTemplate, Resolver, resolveParameters } from "./standin-template.ts";

export type Args = Record<string, string | string[] | true>;
const one = (args: Args, name: string, operation: string): string => {
  const value = args[name];
  if (typeof value !== "string") throw usageError(`the following arguments are required: --${name} (${operation})`);
  return value;
};

const NO_CHANGES =
  "The submitted information didn't contain changes. Submit different information to create a change set.";

function liveStack(state: AccountState, name: string): Stack | undefined {
  const stack = state.stacks[name];
  return stack && stack.status !== "DELETE_COMPLETE" ? stack : undefined;
}

function requireStack(state: AccountState, operation: string, name: string): Stack {
  const stack = liveStack(state, name);
  if (!stack) throw serviceError(operation, "ValidationError", `Stack with id ${name} does not exist`);
  return stack;
}

function findChangeSet(state: AccountState, operation: string, stackName: string, nameOrId: string): ChangeSet {
  const found = Object.values(state.changeSets).find(
    (c) => (c.id === nameOrId || (c.name === nameOrId && c.stackName === stackName)) && c.stackName === stackName,
  );
  if (!found) throw serviceError(operation, "ChangeSetNotFound", `ChangeSet [${nameOrId}] does not exist`);
  return found;
}

const resolverFor = (
  state: AccountState,
  stack: string,
  template: ParsedTemplate,
  params: Record<string, string>,
  ids: Record<string, string>,
) => new Resolver(state, stack, template, params, ids);

function describeStack(s: Stack) {
  return {
    StackId: s.id,
    StackName: s.name,
    Parameters: Object.entries(s.parameters).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    })),
    CreationTime: isoTime(s.createdAt),
    ...(s.updatedAt ? { LastUpdatedTime: isoTime(s.updatedAt) } : {}),
    StackStatus: s.status,
    DisableRollback: false,
    Capabilities: ["CAPABILITY_IAM"],
    ...(s.outputs.length ? { Outputs: s.outputs } : {}),
    Tags: [],
  };
}

function createChangeSet(state: AccountState, op: string, args: Args) {
  const stackName = one(args, "stack-name", op);
  const name = one(args, "change-set-name", op);
  const type = (args["change-set-type"] ?? "UPDATE") as string;
  if (type !== "CREATE" && type !== "UPDATE") throw usageError(`argument --change-set-type: Invalid choice: '${type}'`);
  const existing = liveStack(state, stackName);
  if (type === "CREATE" && existing && existing.status !== "REVIEW_IN_PROGRESS")
    throw serviceError(
      op,
      "ValidationError",
      `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`,
    );
  if (type === "UPDATE" && (!existing || existing.status === "REVIEW_IN_PROGRESS"))
    throw serviceError(op, "ValidationError", `Stack [${stackName}] does not exist`);
  const body = args["use-previous-template"] === true ? (existing?.templateBody ?? "") : one(args, "template-body", op);
  const template = parseTemplate(op, body);
  const given = typeof args.parameters === "string" ? JSON.parse(args.parameters) : [];
  const previous = type === "UPDATE" ? (existing?.parameters ?? null) : null;
  const parameters = resolveParameters(state, op, template, given, previous);
  const capabilities = Array.isArray(args.capabilities)
    ? args.capabilities
    : typeof args.capabilities === "string"
      ? [args.capabilities]
      : [];
  if (
    Object.values(template.Resources).some((r) => r.Type.startsWith("AWS::IAM::")) &&
    !capabilities.some((c) => /CAPABILITY_(NAMED_)?IAM/.test(c))
  )
    throw serviceError(op, "InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]");

  const stack: Stack = existing ?? {
    id: `arn:aws:cloudformation:${state.region}:${state.account}:stack/${stackName}/${crypto.randomUUID()}`,
    name: stackName,
    status: "REVIEW_IN_PROGRESS",
    templateBody: "",
    parameters: {},
    outputs: [],
    imports: [],
    physicalIds: {},
    owns: { clusters: [], services: [] },
    events: [],
    createdAt: tick(state),
  };
  state.stacks[stackName] = stack;
  const after = {
    template,
    parameters,
    resolver: resolverFor(state, stackName, template, parameters, { ...stack.physicalIds }),
  };
  const before =
    type === "UPDATE"
      ? (() => {
          const t = parseTemplate(op, stack.templateBody);
          return {
            template: t,
            parameters: stack.parameters,
            resolver: resolverFor(state, stackName, t, stack.parameters, { ...stack.physicalIds }),
          };
        })()
      : null;
  const missingExport = after.resolver.imports().find((n) => !state.exports[n]);
  const unchanged =
    before && body === stack.templateBody && JSON.stringify(parameters) === JSON.stringify(stack.parameters);
  const changeSet: ChangeSet = {
    id: `arn:aws:cloudformation:${state.region}:${state.account}:changeSet/${name}/${crypto.randomUUID()}`,
    name,
    stackName,
    type,
    status: missingExport || unchanged ? "FAILED" : "CREATE_COMPLETE",
    ...(missingExport
      ? { statusReason: `No export named ${missingExport} found` }
      : unchanged
        ? { statusReason: NO_CHANGES }
        : {}),
    templateBody: body,
    parameters,
    capabilities,
    changes: missingExport || unchanged ? [] : changesBetween(before, after),
    createdAt: tick(state),
  };
  state.changeSets[changeSet.id] = changeSet;
  return { Id: changeSet.id, StackId: stack.id };
}

function describeChangeSet(state: AccountState, op: string, args: Args) {
  const c = findChangeSet(state, op, one(args, "stack-name", op), one(args, "change-set-name", op));
  return {
    Changes: c.changes.map((ResourceChange) => ({
      Type: "Resource",
      ResourceChange: { ...ResourceChange, Scope: [], Details: [] },
    })),
    ChangeSetName: c.name,
    ChangeSetId: c.id,
    StackId: state.stacks[c.stackName]?.id,
    StackName: c.stackName,
    Parameters: Object.entries(c.parameters).map(([ParameterKey, ParameterValue]) => ({
      ParameterKey,
      ParameterValue,
    })),
    CreationTime: isoTime(c.createdAt),
    ExecutionStatus: c.status === "CREATE_COMPLETE" ? "AVAILABLE" : "UNAVAILABLE",
    Status: c.status,
    ...(c.statusReason ? { StatusReason: c.statusReason } : {}),
    Capabilities: c.capabilities,
    IncludeNestedStacks: false,
  };
}

function executeChangeSet(state: AccountState, op: string, args: Args) {
  const c = findChangeSet(state, op, one(args, "stack-name", op), one(args, "change-set-name", op));
  if (c.status !== "CREATE_COMPLETE")
    throw serviceError(
      op,
      "InvalidChangeSetStatus",
      `ChangeSet [${c.id}] cannot be executed in its current status of [${c.status}]`,
    );
  const stack = requireStack(state, op, c.stackName);
  const failure = state.failOnExecute[stack.name];
  const creating = c.type === "CREATE";
  for (const id of Object.keys(state.changeSets))
    if (state.changeSets[id]?.stackName === stack.name) delete state.changeSets[id];
  if (failure) {
    stack.events.unshift(
      {
        LogicalResourceId: stack.name,
        ResourceType: "AWS::CloudFormation::Stack",
        ResourceStatus: creating ? "ROLLBACK_COMPLETE" : "UPDATE_ROLLBACK_COMPLETE",
      },
      {
        LogicalResourceId: failure.resource,
        ResourceType: failure.type,
        ResourceStatus: creating ? "CREATE_FAILED" : "UPDATE_FAILED",
        ResourceStatusReason: failure.reason,
      },
    );
    stack.status = creating ? "ROLLBACK_COMPLETE" : "UPDATE_ROLLBACK_COMPLETE";
    return {};
  }
  const template = parseTemplate(op, c.templateBody);
  const resolver = resolverFor(state, stack.name, template, c.parameters, stack.physicalIds);
  stack.templateBody = c.templateBody;
  stack.parameters = c.parameters;
  stack.outputs = resolver.outputs();
  stack.imports = resolver.imports();
  for (const o of stack.outputs)
    if (o.ExportName) state.exports[o.ExportName] = { value: o.OutputValue, stack: stack.name };
  for (const [id, r] of resolver.resources()) {
    const props = r.Properties ?? {};
    if (r.Type === "AWS::MSK::Cluster") {
      const arn = resolver.ref(id);
      state.clusters[arn] = {
        name: String(resolver.value(props.ClusterName)),
        brokers: Number(resolver.value(props.NumberOfBrokerNodes)),
        state: "ACTIVE",
      };
      stack.owns.clusters = [...new Set([...stack.owns.clusters, arn])];
    }
    if (r.Type === "AWS::ECS::Service") {
      const desired = Number(resolver.value(props.DesiredCount ?? 1));
      const key = `${resolver.value(props.Cluster)}/${resolver.value(props.ServiceName)}`;
      state.ecsServices[key] = { desired, running: desired };
      stack.owns.services = [...new Set([...stack.owns.services, key])];
    }
  }
  stack.status = creating ? "CREATE_COMPLETE" : "UPDATE_COMPLETE";
  if (!creating) stack.updatedAt = tick(state);
  stack.events.unshift({
    LogicalResourceId: stack.name,
    ResourceType: "AWS::CloudFormation::Stack",
    ResourceStatus: stack.status,
  });
  return {};
}

function deleteStack(state: AccountState, op: string, args: Args) {
  const stack = liveStack(state, one(args, "stack-name", op));
  if (!stack) return {}; // deleting what is not there succeeds, as in CloudFormation
  const exported = Object.entries(state.exports)
    .filter(([, e]) => e.stack === stack.name)
    .map(([name]) => name);
  const importer = Object.values(state.stacks).find(
    (s) => liveStack(state, s.name) && s.imports.some((i) => exported.includes(i)),
  );
  const injected = state.failOnDelete[stack.name];
  if (importer || injected) {
    const usedExport = exported.find((e) => importer?.imports.includes(e));
    const reason = injected?.reason ?? `Export ${usedExport} cannot be deleted as it is in use by ${importer?.name}`;
    stack.events.unshift({
      LogicalResourceId: injected?.resource ?? stack.name,
      ResourceType: injected?.type ?? "AWS::CloudFormation::Stack",
      ResourceStatus: "DELETE_FAILED",
      ResourceStatusReason: reason,
    });
    stack.status = "DELETE_FAILED";
    return {};
  }
  for (const name of exported) delete state.exports[name];
  for (const arn of stack.owns.clusters) delete state.clusters[arn];
  for (const key of stack.owns.services) delete state.ecsServices[key];
  stack.status = "DELETE_COMPLETE";
  return {};
}

const WAITERS: Record<string, { name: string; ok: string[]; bad: RegExp }> = {
  "stack-create-complete": { name: "StackCreateComplete", ok: ["CREATE_COMPLETE"], bad: /FAILED|ROLLBACK|DELETE/ },
  "stack-update-complete": { name: "StackUpdateComplete", ok: ["UPDATE_COMPLETE"], bad: /FAILED|ROLLBACK/ },
  "stack-delete-complete": {
    name: "StackDeleteComplete",
    ok: [],
    bad: /FAILED|ROLLBACK|CREATE_COMPLETE|UPDATE_COMPLETE/,
  },
};

function wait(state: AccountState, args: Args, waiter: string) {
  if (waiter === "change-set-create-complete") {
    const c = Object.values(state.changeSets).find(
      (x) =>
        x.stackName === args["stack-name"] && (x.id === args["change-set-name"] || x.name === args["change-set-name"]),
    );
    if (!c) throw waiterFailure("ChangeSetCreateComplete", "Matched expected service error code: ChangeSetNotFound");
    if (c.status === "FAILED")
      throw waiterFailure("ChangeSetCreateComplete", 'For expression "Status" we matched expected path: "FAILED"');
    return {};
  }
  const spec = WAITERS[waiter];
  if (!spec) throw usageError(`argument wait: Invalid choice: '${waiter}'`);
  const stack = liveStack(state, String(args["stack-name"]));
  if (!stack) {
    if (waiter === "stack-delete-complete") return {};
    throw waiterFailure(spec.name, "Matched expected service error code: ValidationError");
  }
  if (spec.ok.includes(stack.status)) return {};
  throw waiterFailure(
    spec.name,
    `For expression "Stacks[].StackStatus" we matched expected path: "${stack.status}" at least once`,
  );
}

export function cloudformation(state: AccountState, operation: string, args: Args, rest: string[]): unknown {
  switch (operation) {
    case "describe-stacks": {
      const stack = requireStack(state, operation, one(args, "stack-name", operation));
      return { Stacks: [describeStack(stack)] };
    }
    case "create-change-set":
      return createChangeSet(state, operation, args);
    case "describe-change-set":
      return describeChangeSet(state, operation, args);
    case "delete-change-set": {
      const c = findChangeSet(
        state,
        operation,
        one(args, "stack-name", operation),
        one(args, "change-set-name", operation),
      );
      delete state.changeSets[c.id];
      return {};
    }
    case "execute-change-set":
      return executeChangeSet(state, operation, args);
    case "delete-stack":
      return deleteStack(state, operation, args);
    case "describe-stack-events":
      return {
        StackEvents: requireStack(state, operation, one(args, "stack-name", operation)).events.map((e) => ({
          StackName: args["stack-name"],
          ...e,
        })),
      };
    case "wait":
      return wait(state, args, rest[0] ?? "");
    default:
      throw usageError(`argument operation: Invalid choice: '${operation}'`);
  }
}
