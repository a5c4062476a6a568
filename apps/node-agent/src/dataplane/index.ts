export { HOST_LINK_MAC, HOST_LINK_PREFIX, hostLinkName, IPV4_GATEWAY, IPV6_GATEWAY, podLinkMac } from './link-names';
export { NetCommandError, systemNetCommands, type NetCommands } from './net-commands';
export { PodNetwork, PodNetworkError, type AttachedPod, type PodAttachment, type PreparedPod } from './pod-network';
