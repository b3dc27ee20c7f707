"""Developer tools above the project: the game simulator, the demo data and the ``runplatform`` supervisor."""
