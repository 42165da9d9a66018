-- Who published this snapshot, kept in the lake's snapshot list.
CALL lake.set_commit_message('wirecopy', $message, extra_info => $info);
