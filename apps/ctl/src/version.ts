// Written into `ipam check` reports; `ipam release --from-report` refuses reports from
// another version unless --force, as calicoctl does.
export const ATOLLCTL_VERSION = 'v0.1.0';
