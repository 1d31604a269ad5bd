// Container names (pure): they become netns names and CNI container ids.
import { VxnetError } from '../errors.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkContainerName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new VxnetError(
      'BAD_REQUEST',
      `container name ${JSON.stringify(name)} is invalid: use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit (it names the network namespace)`,
    );
  }
  return name;
}
