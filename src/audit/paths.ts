/** Paths of input files: '/'-joined on every platform (Node accepts '/' on Windows too). */
export function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
}
