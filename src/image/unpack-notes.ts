// What an unpack has to tell the user without failing: device nodes a normal user's unpack
// skipped (rootless: no mknod outside a user namespace, none inside either). A module of its own,
// so the CLI can listen without loading the archive code before it unpacks anything.

/** Device nodes skipped in one archive: its label, the paths. */
export type DeviceNote = (label: string, paths: string[]) => void;

let deviceNote: DeviceNote | undefined;

/** Who hears of skipped device nodes (the CLI says so once). Root skips them silently: the runtime gives containers their own /dev. */
export function onSkippedDevices(note: DeviceNote | undefined): void {
  deviceNote = note;
}

export function skippedDevices(label: string, paths: string[]): void {
  deviceNote?.(label, paths);
}
