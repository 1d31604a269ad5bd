// Pure: the rules vxnet keeps at the top of Docker's DOCKER-USER chain.
// dockerd sets the FORWARD policy to DROP and accepts only its own bridges'
// traffic; an accept in vxnet's own nft table cannot override a drop in
// another base chain, so overlay traffic is accepted where Docker asks users
// to put their rules. Each rule carries the comment "vxnet", so only ours are touched.

export const DOCKER_USER = 'DOCKER-USER';
export const RULE_COMMENT = 'vxnet';

/** Rule specs as `iptables -S` prints them (without "-A DOCKER-USER"), in order. */
export function forwardRules(subnets: readonly string[]): string[] {
  return subnets.flatMap((s) => [
    `-s ${s} -m comment --comment ${RULE_COMMENT} -j ACCEPT`,
    `-d ${s} -m comment --comment ${RULE_COMMENT} -j ACCEPT`,
  ]);
}

const isOurs = (spec: string): boolean => spec.includes(`--comment ${RULE_COMMENT} `) || spec.endsWith(`--comment ${RULE_COMMENT}`);

/** The chain's rule specs from `iptables -S DOCKER-USER` output. */
export function chainRules(listing: string): string[] {
  const prefix = `-A ${DOCKER_USER} `;
  return listing
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim());
}

/**
 * An `iptables-restore --noflush` script that puts `desired` at the top of
 * the chain and removes our other rules, in one transaction; undefined when
 * the chain already starts with exactly them.
 */
export function forwardScript(listing: string, desired: readonly string[]): string | undefined {
  const present = chainRules(listing);
  const ours = present.filter(isOurs);
  const head = present.slice(0, desired.length);
  if (ours.length === desired.length && desired.every((d, i) => head[i] === d)) return undefined;
  const lines = [
    '*filter',
    ...ours.map((r) => `-D ${DOCKER_USER} ${r}`),
    ...desired.map((r, i) => `-I ${DOCKER_USER} ${i + 1} ${r}`),
    'COMMIT',
    '',
  ];
  return lines.join('\n');
}
