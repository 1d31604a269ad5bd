// Per-run names for namespaces and links (pure): parallel runs never collide,
// and every link name stays within Linux's 15 characters.

export interface RunNames {
  prefix: string;
  underlayNs: string;
  /** The veth end left in the root namespace (holds the .254 address). */
  rootLink: string;
  hostNs(i: number): string;
  /** The veth end inside the underlay namespace for host i (or the outside host when i = 0). */
  underlayPort(i: number): string;
  outsideNs: string;
  container(name: string): string;
}

const MAX_IFNAME = 15;

/** A short random prefix like "vx3fa2"; `random` returns 0 <= x < 1. */
export function makeRunPrefix(random: () => number = Math.random): string {
  const hex = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `vx${hex}`;
}

export function runNames(prefix: string): RunNames {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) {
    throw new Error(`run prefix "${prefix}" must be 2-8 lowercase letters/digits starting with a letter`);
  }
  const link = (name: string): string => {
    if (name.length > MAX_IFNAME) throw new Error(`link name "${name}" is longer than ${MAX_IFNAME} characters`);
    return name;
  };
  return {
    prefix,
    underlayNs: `${prefix}-ul`,
    rootLink: link(`${prefix}r`),
    hostNs: (i) => `${prefix}-h${i}`,
    underlayPort: (i) => link(`p${i}`),
    outsideNs: `${prefix}-out`,
    container: (name) => `${prefix}-${name}`,
  };
}
