/**
 * What CloudFormation does with a template before and after deploying it, as far as the stand-in
 * needs: validate parameters as the service does (types, patterns, ranges, existing VPC objects),
 * evaluate conditions, list the resources a change set touches, and resolve outputs and exports
 * (physical ids and attributes are made up, in the shapes AWS uses).
 */
import { type AccountState, serviceError, shortId } from "./standin-state.ts";

type Json = unknown;
interface ParameterSpec {
  Type: string;
  Default?: string | number;
  AllowedValues?: string[];
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
}
interface ResourceSpec {
  Type: string;
  Condition?: string;
  Properties?: Record<string, Json>;
}
export interface ParsedTemplate {
  Parameters?: Record<string, ParameterSpec>;
  Mappings?: Record<string, Record<string, Record<string, Json>>>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, ResourceSpec>;
  Outputs?: Record<string, { Value: Json; Description?: string; Condition?: string; Export?: { Name: Json } }>;
}

export function parseTemplate(operation: string, body: string): ParsedTemplate {
  try {
    const parsed = Bun.YAML.parse(body) as ParsedTemplate;
    if (!parsed?.Resources) throw new Error("At least one Resources member must be defined.");
    return parsed;
  } catch (error) {
    throw serviceError(operation, "ValidationError", `Template format error: ${(error as Error).message}`);
  }
}

/** Given values checked the way CloudFormation checks them; returns every parameter's value. */
export function resolveParameters(
  state: AccountState,
  operation: string,
  template: ParsedTemplate,
  given: { ParameterKey: string; ParameterValue?: string; UsePreviousValue?: boolean }[],
  previous: Record<string, string> | null,
): Record<string, string> {
  const specs = template.Parameters ?? {};
  const unknown = given.filter((g) => !(g.ParameterKey in specs)).map((g) => g.ParameterKey);
  const fail = (message: string) => serviceError(operation, "ValidationError", message);
  if (unknown.length) throw fail(`Parameters: [${unknown.join(", ")}] do not exist in the template`);
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const entry = given.find((g) => g.ParameterKey === key);
    let value: string | undefined;
    if (entry?.UsePreviousValue) {
      if (!previous)
        throw fail(
          `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key in a new stack`,
        );
      value = previous[key];
    } else value = entry?.ParameterValue ?? (spec.Default === undefined ? undefined : String(spec.Default));
    if (value === undefined) missing.push(key);
    else values[key] = value;
  }
  if (missing.length) throw fail(`Parameters: [${missing.join(", ")}] must have values`);
  for (const [key, spec] of Object.entries(specs)) checkValue(state, fail, key, spec, values[key] ?? "");
  return values;
}

function checkValue(state: AccountState, fail: (m: string) => Error, key: string, spec: ParameterSpec, value: string) {
  const items = spec.Type.startsWith("List<") || spec.Type === "CommaDelimitedList" ? value.split(",") : [value];
  if (spec.Type === "Number") {
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw fail(`Parameter '${key}' must be a number.`);
    if (spec.MinValue !== undefined && Number(value) < spec.MinValue)
      throw fail(`Parameter '${key}' must be a number greater than or equal to ${spec.MinValue}`);
    if (spec.MaxValue !== undefined && Number(value) > spec.MaxValue)
      throw fail(`Parameter '${key}' must be a number less than or equal to ${spec.MaxValue}`);
  }
  if (spec.AllowedValues && !spec.AllowedValues.map(String).includes(value))
    throw fail(`Parameter '${key}' must be one of AllowedValues`);
  if (spec.AllowedPattern && !new RegExp(`^(?:${spec.AllowedPattern})$`).test(value))
    throw fail(`Parameter '${key}' must match pattern ${spec.AllowedPattern}`);
  const known: Record<string, Record<string, unknown>> = {
    "AWS::EC2::VPC::Id": Object.fromEntries(Object.values(state.subnets).map((s) => [s.vpc, s])),
    "AWS::EC2::Subnet::Id": state.subnets,
    "AWS::EC2::SecurityGroup::Id": state.securityGroups,
  };
  const kind = spec.Type.replace(/^List<(.+)>$/, "$1");
  for (const item of items)
    if (known[kind] && !(item in (known[kind] ?? {})))
      throw fail(`Parameter value ${item} for parameter name ${key} does not exist. Rollback requested by user.`);
}

/** Evaluates intrinsic functions over parameters, mappings, conditions and made-up resource ids. */
export class Resolver {
  constructor(
    private readonly state: AccountState,
    private readonly stackName: string,
    private readonly template: ParsedTemplate,
    private readonly parameters: Record<string, string>,
    private readonly physicalIds: Record<string, string>,
  ) {}

  private pseudo(name: string): string | undefined {
    return {
      "AWS::Region": this.state.region,
      "AWS::AccountId": this.state.account,
      "AWS::Partition": "aws",
      "AWS::StackName": this.stackName,
      "AWS::URLSuffix": "amazonaws.com",
    }[name];
  }

  condition(name: string): boolean {
    return Boolean(this.value(this.template.Conditions?.[name]));
  }

  /** Resources that exist with these parameters (false conditions drop theirs). */
  resources(): [string, ResourceSpec][] {
    return Object.entries(this.template.Resources).filter(([, r]) => !r.Condition || this.condition(r.Condition));
  }

  ref(name: string): string {
    const value = this.parameters[name] ?? this.pseudo(name);
    if (value !== undefined) return value;
    const resource = this.template.Resources[name];
    if (!resource) throw new Error(`stand-in: unresolved Ref ${name}`);
    this.physicalIds[name] ??= this.makePhysicalId(name, resource);
    return this.physicalIds[name];
  }

  private makePhysicalId(name: string, resource: ResourceSpec): string {
    const { region, account } = this.state;
    const props = resource.Properties ?? {};
    const named = (key: string) => (props[key] === undefined ? undefined : String(this.value(props[key])));
    switch (resource.Type) {
      case "AWS::MSK::Cluster":
        return `arn:aws:kafka:${region}:${account}:cluster/${named("ClusterName")}/${crypto.randomUUID()}-2`;
      case "AWS::SecretsManager::Secret":
        return `arn:aws:secretsmanager:${region}:${account}:secret:${named("Name") ?? `${name}-${shortId()}`}-AbCdEf`;
      case "AWS::ECS::Cluster":
        return named("ClusterName") ?? `${this.stackName}-${name}-${shortId()}`;
      case "AWS::KMS::Key":
        return crypto.randomUUID();
      case "AWS::S3::Bucket":
        return `${this.stackName}-${name.toLowerCase()}-${shortId()}`;
      default:
        return `${this.stackName}-${name}-${shortId().toUpperCase()}`;
    }
  }

  getAtt(resource: string, attribute: string): string {
    const id = this.ref(resource);
    const type = this.template.Resources[resource]?.Type ?? "";
    const props = this.template.Resources[resource]?.Properties ?? {};
    if (attribute === "Arn")
      return id.startsWith("arn:")
        ? id
        : `arn:aws:${type.split("::")[1]?.toLowerCase()}:${this.state.region}:${this.state.account}:${id}`;
    if (attribute === "Name") return props.ServiceName ? String(this.value(props.ServiceName)) : id;
    if (attribute === "DomainName") return `d${shortId()}.cloudfront.net`;
    if (attribute === "DNSName") return `${id.slice(0, 20)}-${shortId()}.${this.state.region}.elb.amazonaws.com`;
    if (attribute === "LoadBalancerFullName") return `app/${props.Name ? this.value(props.Name) : id}/${shortId()}`;
    if (attribute === "Endpoint.Address")
      return `${id.toLowerCase()}.${shortId()}.${this.state.region}.rds.amazonaws.com`;
    if (attribute === "Endpoint.Port") return "5432";
    return `${id}.${attribute}`;
  }

  value(node: Json): Json {
    if (Array.isArray(node)) return node.map((n) => this.value(n));
    if (node === null || typeof node !== "object") return node;
    const [fn, arg] = Object.entries(node)[0] ?? [];
    const args = arg as Json[];
    switch (fn) {
      case "Ref":
        return this.ref(String(arg));
      case "Fn::Sub":
        return this.sub(arg);
      case "Fn::FindInMap": {
        const [map, first, second] = args.map((a) => String(this.value(a)));
        return this.template.Mappings?.[map ?? ""]?.[first ?? ""]?.[second ?? ""];
      }
      case "Fn::GetAtt":
        return this.getAtt(String(args[0]), String(args[1]));
      case "Fn::ImportValue": {
        const name = String(this.value(arg));
        return this.state.exports[name]?.value ?? `(missing export ${name})`;
      }
      case "Fn::Split":
        return String(this.value(args[1])).split(String(args[0]));
      case "Fn::Select": {
        const list = this.value(args[1]);
        const index = Number(this.value(args[0]));
        if (!Array.isArray(list) || !(index in list)) throw new Error(`stand-in: Fn::Select ${index} out of range`);
        return list[index] ?? null;
      }
      case "Fn::Equals":
        return String(this.value(args[0])) === String(this.value(args[1]));
      case "Fn::Not":
        return !this.value(args[0]);
      case "Fn::And":
        return args.every((a) => this.value(a));
      case "Fn::Or":
        return args.some((a) => this.value(a));
      case "Condition":
        return this.condition(String(arg));
      case "Fn::If":
        return this.value(this.condition(String(args[0])) ? args[1] : args[2]);
      default:
        return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, this.value(v)]));
    }
  }

  private sub(arg: Json): string {
    const [text, vars] = Array.isArray(arg)
      ? [String(arg[0]), (arg[1] ?? {}) as Record<string, Json>]
      : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name in vars) return String(this.value(vars[name]));
      if (name.includes(".") && !name.startsWith("AWS::")) {
        const [resource, ...attribute] = name.split(".");
        return this.getAtt(resource ?? "", attribute.join("."));
      }
      return whole.startsWith("${!") ? whole : this.ref(name);
    });
  }

  /** Names this template imports, among the resources and outputs that exist. */
  imports(): string[] {
    const found: string[] = [];
    const walk = (node: Json) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object")
        for (const [k, v] of Object.entries(node)) {
          if (k === "Fn::ImportValue") found.push(String(this.value(v)));
          else walk(v);
        }
    };
    for (const [, resource] of this.resources()) walk(resource.Properties);
    for (const output of Object.values(this.template.Outputs ?? {}))
      if (!output.Condition || this.condition(output.Condition)) walk(output.Value);
    return [...new Set(found)];
  }

  outputs() {
    return Object.entries(this.template.Outputs ?? {})
      .filter(([, o]) => !o.Condition || this.condition(o.Condition))
      .map(([key, o]) => ({
        OutputKey: key,
        OutputValue: String(this.value(o.Value)),
        ...(o.Description ? { Description: o.Description } : {}),
        ...(o.Export ? { ExportName: String(this.value(o.Export.Name)) } : {}),
      }));
  }
}

/** What CloudFormation would show for the change between two deployments. */
export function changesBetween(
  before: { resolver: Resolver; template: ParsedTemplate; parameters: Record<string, string> } | null,
  after: { resolver: Resolver; template: ParsedTemplate; parameters: Record<string, string> },
) {
  const now = new Map(after.resolver.resources());
  if (!before) return [...now].map(([id, r]) => ({ Action: "Add", LogicalResourceId: id, ResourceType: r.Type }));
  const was = new Map(before.resolver.resources());
  const changedParams = Object.keys(after.parameters).filter((k) => after.parameters[k] !== before.parameters[k]);
  const mentions = (r: ResourceSpec) =>
    changedParams.some((p) => JSON.stringify(r).includes(`"Ref":"${p}"`) || JSON.stringify(r).includes(`\${${p}}`));
  const changes = [];
  for (const [id, r] of now) {
    const old = was.get(id);
    if (!old) changes.push({ Action: "Add", LogicalResourceId: id, ResourceType: r.Type });
    else if (JSON.stringify(old) !== JSON.stringify(r) || mentions(r))
      changes.push({ Action: "Modify", LogicalResourceId: id, ResourceType: r.Type, Replacement: "False" });
  }
  for (const [id, r] of was)
    if (!now.has(id)) changes.push({ Action: "Remove", LogicalResourceId: id, ResourceType: r.Type });
  return changes;
}
