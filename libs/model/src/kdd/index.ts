export { calicoHostnameHash } from './hostname-hash';
