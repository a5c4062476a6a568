import { IntendedUse, type AssignmentExplanation } from '@atoll/api';
import { PoolRequestError, poolSettingsOfIpamConfig, resolvePoolRequest, SpecificAddressAnnotations, type PoolSettings } from '@atoll/model';
import { expectPositionals, outputFormat, ParsedArgs, stringFlag } from '../args';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { formatJson } from '../format/json';
import { getKubeObject, type KubeObject } from '../kube/kube-get';
import { kubeconfigPath, loadKubeAccess } from '../kube/kubeconfig';
import { refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';
import { jsonOf, relevant, renderText, type Explained } from './explain-report';

// ipam explain: the decision an ADD for this pod would get now, without allocating. The
// annotations are resolved by the agent's own code (@atoll/model cni/pool-request.ts), and
// the allocator runs the real assignment with its writes kept in memory (Explain service).

const SEE = "see 'atollctl ipam explain --help'";

/** The pool settings of --cni-conf: the `ipam` of Atoll's plugin in a .conflist or a .conf. */
export function cniPoolSettings(text: string, file: string): PoolSettings {
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`--cni-conf ${file} is not JSON: ${(err as Error).message}`);
  }
  const plugins = Array.isArray(conf['plugins']) ? (conf['plugins'] as Record<string, unknown>[]) : [conf];
  const ours = plugins.find((p) => {
    const ipam = p?.['ipam'] as Record<string, unknown> | undefined;
    return ipam?.['type'] === 'atoll-ipam';
  });
  if (!ours) throw new CliError(`--cni-conf ${file} has no plugin with "ipam": {"type": "atoll-ipam"}`);
  try {
    return poolSettingsOfIpamConfig(ours['ipam'] as Record<string, unknown>);
  } catch (err) {
    if (err instanceof PoolRequestError) throw new CliError(`--cni-conf ${file}: ${err.message}`);
    throw err;
  }
}

export const ipamExplainCommand: Command = {
  name: 'ipam explain',
  summary: 'Why a pod gets (or does not get) an address, without allocating one.',
  options: {
    namespace: { type: 'string' },
    pod: { type: 'string' },
    node: { type: 'string' },
    kubeconfig: { type: 'string' },
    'cni-conf': { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  usage: `Usage:
  atollctl ipam explain --namespace=<NS> --pod=<NAME> [--node=<NODE>]
                        [--kubeconfig=<FILE>] [--cni-conf=<FILE>]
                        [--output=<OUTPUT>] [--allocator=<ADDR>]

Options:
     --namespace=<NS>     The pod's namespace.
     --pod=<NAME>         The pod's name.
     --node=<NODE>        The node to explain for [default: the pod's
                          spec.nodeName].
     --kubeconfig=<FILE>  Where the pod and its namespace are read
                          [default: $KUBECONFIG, then ~/.kube/config].
     --cni-conf=<FILE>    The node's CNI configuration (.conflist or .conf),
                          for its ipv4_pools, ipv6_pools, assign_ipv4 and
                          assign_ipv6 [default: none given].
  -o --output=<OUTPUT>    text or json [default: text].
${GLOBAL_OPTIONS_HELP}

Description:
  Shows the decision an ADD for this pod would get now, and allocates nothing:
  the annotations read from the pod and its namespace, the precedence applied
  (pod over namespace over CNI configuration, by the node agent's own code),
  each pool with selected, eligible or why it is skipped (disabled,
  not-requested, manual-assignment, node-selector, namespace-selector,
  allowed-uses, full, block-limit, reservation), and the block the address
  would come from (an existing block of the node, a new block, or borrowed) —
  or the exact error the ADD would fail with. The allocator decides this by
  running the real assignment with its writes kept in memory. For a pod that
  holds addresses, the allocation history says which rule chose them.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam explain', args, 0, 0, 'arguments');
    const format = outputFormat('ipam explain', args, ['text', 'json'] as const, 'text');
    const namespace = stringFlag(args, 'namespace');
    const podName = stringFlag(args, 'pod');
    if (!namespace || !podName) throw new UsageError(`flags --namespace and --pod are required; ${SEE}`);
    const kubeconfig = kubeconfigPath(stringFlag(args, 'kubeconfig'), ctx.env);
    const access = await loadKubeAccess(kubeconfig, { readFile: (p) => ctx.io.readInput(p), env: ctx.env });
    const [pod, ns] = await Promise.all([
      getKubeObject(access, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`),
      getKubeObject(access, `/api/v1/namespaces/${encodeURIComponent(namespace)}`),
    ]);
    if (!pod) throw new CliError(`pod ${namespace}/${podName} not found in the Kubernetes API at ${access.server}`);
    const node = stringFlag(args, 'node') || pod.spec?.nodeName;
    if (!node) throw new CliError(`pod ${namespace}/${podName} is not scheduled to a node yet; give --node`);
    const cniFile = stringFlag(args, 'cni-conf');
    const config = cniFile ? cniPoolSettings(await ctx.io.readInput(cniFile), cniFile) : poolSettingsOfIpamConfig({});
    const podAnnotations = (pod as KubeObject).metadata?.annotations ?? {};
    const nsAnnotations = ns?.metadata?.annotations ?? {};
    const base = {
      pod: `${namespace}/${podName}`,
      node,
      cniConf: cniFile ?? null,
      annotations: { namespace: relevant(nsAnnotations), pod: relevant(podAnnotations) },
    };
    const current = await ctx.history
      .queryHoldings({ ip: '', podNamespace: namespace, podName, node: '', at: new Date().toISOString(), since: '' })
      .then((a) => a.holdings, (err: unknown) => {
        throw new CliError(refusalMessage(err));
      });
    let explained: Explained;
    const specificKey = Object.values(SpecificAddressAnnotations).find((k) => podAnnotations[k] !== undefined);
    if (specificKey) {
      explained = { ...base, applied: [], specific: { annotation: specificKey, value: podAnnotations[specificKey]! }, current };
    } else {
      let resolved;
      try {
        resolved = resolvePoolRequest(config, nsAnnotations, podAnnotations);
      } catch (err) {
        if (err instanceof PoolRequestError) throw new CliError(`the ADD would fail: ${err.message}`);
        throw err;
      }
      const r = resolved.settings;
      let explanation: AssignmentExplanation;
      try {
        explanation = await ctx.explain.explainAutoAssign({
          num4: r.assignIpv4 ? 1 : 0,
          num6: r.assignIpv6 ? 1 : 0,
          handleId: `explain.${namespace}.${podName}`,
          attributes: { node, namespace, pod: podName },
          hostname: node,
          ipv4Pools: [...r.ipv4Pools],
          ipv6Pools: [...r.ipv6Pools],
          maxBlocksPerHost: 0,
          intendedUse: IntendedUse.INTENDED_USE_WORKLOAD,
          namespaceLabels: { ...(ns?.metadata?.labels ?? {}) },
          allOrNothing: true,
        });
      } catch (err) {
        throw new CliError(refusalMessage(err));
      }
      explained = { ...base, applied: resolved.applied, request: r, explanation, current };
    }
    ctx.io.out(format === 'json' ? formatJson(jsonOf(explained)) : renderText(explained));
  },
};
