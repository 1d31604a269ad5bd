// Facts of Linux links that the config, the master and the agent all check:
// which overlay names fit interface names, and the smallest VXLAN MTU.

/** Linux interface names stop at 15 characters; bridges are `m-<name>` and `d-<name>`. */
export const MAX_OVERLAY_NAME_LENGTH = 13;

/** Characters of an overlay name: it becomes part of interface names. */
export const OVERLAY_NAME_CHARS = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Whether `name` can name an overlay: 1-13 of [A-Za-z0-9_.-], starting with a letter or digit. */
export function isOverlayName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_OVERLAY_NAME_LENGTH && OVERLAY_NAME_CHARS.test(name);
}

/** The smallest MTU the kernel's VXLAN device accepts. */
export const MIN_VXLAN_MTU = 552;
