"""The local lifecycle demo (``mlops demo``): ``lifecycle`` acts it out and checks every transition,
``report`` writes the timeline and the HTML report, ``dag`` draws the pipelines' step graphs."""
