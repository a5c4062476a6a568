export { formatDuration, parseGoDuration } from './go-duration';
