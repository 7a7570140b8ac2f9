// Generated from messaging/src/delivery/objects.rs by its tests: do not edit.
// Regenerate with: HERALD_WRITE_TS=1 cargo test -p messaging --lib objects

export type MsgFlag = "AcceptAndNotify" | "AcceptNotNotify" | "Discard";

export type OfficialAccountInfo = { officialAccountID: string, officialAccountName: string, faceUrl: string, organization: string, introduction: string, customData: string, 
/**
 * Unix seconds.
 */
createTime: number, subscriberCount: number, 
/**
 * When the user subscribed; 0 when they do not.
 */
subscribeTime: number, 
/**
 * Absent when the user does not subscribe.
 */
msgFlag?: MsgFlag, unreadCount: number, 
/**
 * The pinned post's MsgKey (docs/rest-api.md §9); `""` when none.
 */
pinnedMsgKey: string, };

export type Reaction = { 
/**
 * An emoji or a name, at most 32 bytes.
 */
reactionID: string, totalUserCount: number, reactedByMe: boolean, };

export type PollOptionState = { optionID: string, text: string, voteCount: number, };

export type Poll = { question: string, options: Array<PollOptionState>, allowMultiple: boolean, 
/**
 * Unix seconds; 0: no closing time.
 */
closesAt: number, isClosed: boolean, 
/**
 * The option IDs this reader chose.
 */
myVotes: Array<string>, 
/**
 * Distinct users who voted.
 */
totalVoters: number, };

export type MsgElement = { MsgType: string, MsgContent: Record<string, unknown>, };

export type Message = { msgKey: string, conversationID: string, officialAccountID: string, 
/**
 * The account's ID for a broadcast or a reply; the user's for their own message.
 */
sender: string, isBroadcast: boolean, 
/**
 * Unix seconds.
 */
time: number, 
/**
 * Tencent message elements (docs/rest-api.md §6); empty once recalled.
 */
msgBody: MsgElement[], cloudCustomData: string, isRevoked: boolean, reactions: Array<Reaction>, 
/**
 * The body was changed after sending (docs/rest-api.md §9).
 */
isEdited: boolean, 
/**
 * When it was last edited, Unix seconds; 0 when never.
 */
editTime: number, 
/**
 * A poll's state; absent for anything else.
 */
poll?: Poll, };

export type ServerEvent = { "event": "onOfficialAccountSubscribed", "data": { officialAccountInfo: OfficialAccountInfo, } } | { "event": "onOfficialAccountUnsubscribed", "data": { officialAccountID: string, } } | { "event": "onOfficialAccountDeleted", "data": { officialAccountID: string, } } | { "event": "onOfficialAccountInfoChanged", "data": { officialAccountInfo: OfficialAccountInfo, } } | { "event": "onRecvNewMessage", "data": { message: Message, } } | { "event": "onRecvMessageRevoked", "data": { conversationID: string, msgKey: string, } } | { "event": "onMessageReactionsChanged", "data": { conversationID: string, msgKey: string, reactions: Array<Reaction>, } } | { "event": "onTotalUnreadMessageCountChanged", "data": { totalUnreadCount: number, } } | { "event": "onRecvMessageModified", "data": { message: Message, } } | { "event": "onPollChanged", "data": { conversationID: string, msgKey: string, poll: Poll, } };
