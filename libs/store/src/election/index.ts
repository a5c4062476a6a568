export { campaign, currentLeader, type CampaignOptions, type Leadership, type LeaderInfo } from './campaign';
